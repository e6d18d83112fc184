export {
  CATALOGUE,
  RETIRED_CODES,
  isErrorCode,
  type CatalogueEntry,
  type ErrorCode,
  type ErrorKind,
} from './catalogue.js';
export { PosternError, isPosternError, type PosternErrorOptions } from './postern-error.js';
export { parseOrThrow, validationError } from './validation.js';
