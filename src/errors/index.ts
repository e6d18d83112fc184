export { CATALOGUE, RETIRED_CODES, type CatalogueEntry, type ErrorCode, type ErrorKind } from './catalogue.js';
export { PosternError, isPosternError, type PosternErrorOptions } from './postern-error.js';
export { parseOrThrow } from './validation.js';
