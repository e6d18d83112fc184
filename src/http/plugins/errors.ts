import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { PosternError, isPosternError, type ErrorCode } from '../../errors/index.js';

export interface FieldProblem {
  field: string;
  problem: string;
}

/** Fastify's own error codes that have a catalogue equivalent. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'REQUEST_MALFORMED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST_MALFORMED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_MALFORMED',
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
};

/**
 * Turns anything thrown by a route into the API error body `{ error: { code, message, remedy?,
 * details? } }`. Errors outside the catalogue become INTERNAL with a generic message; the original
 * goes to the error log only.
 */
function toPosternError(error: unknown, storageError?: (error: unknown) => PosternError | undefined): PosternError {
  if (isPosternError(error)) return error;
  // A full disk or a read-only store is said as such (507 STORE_DISK_FULL with its remedy), not INTERNAL.
  const storage = storageError?.(error);
  if (storage !== undefined) return storage;
  if (hasZodFastifySchemaValidationErrors(error)) return validationError(error);
  const fastifyError = error as Partial<FastifyError> | undefined;
  const code = fastifyError?.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (code === 'REQUEST_MALFORMED') {
    return new PosternError(code, {
      message: `The request body is not valid JSON: ${fastifyError?.message ?? 'unreadable'}.`,
      cause: error,
    });
  }
  if (code !== undefined) return new PosternError(code, { cause: error });
  if (fastifyError?.statusCode === 429) return new PosternError('AUTH_RATE_LIMITED', { cause: error });
  return new PosternError('INTERNAL', { cause: error });
}

function validationError(error: {
  validation: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>;
  validationContext?: string;
}): PosternError {
  const where = error.validationContext ?? 'body';
  const fields: FieldProblem[] = error.validation.map((issue) => {
    const pointer = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    return { field: pointer === '' ? where : pointer, problem: issue.message ?? 'is invalid' };
  });
  const summary = fields.map((f) => `${f.field}: ${f.problem}`).join('; ');
  return new PosternError('VALIDATION_FAILED', {
    message: `The request ${where} is invalid: ${summary}.`,
    details: { in: where, fields },
  });
}

/**
 * Seconds a refused caller should wait: the error's own delay (a locked username), else the one
 * @fastify/rate-limit already set for its window, else a minute.
 */
function retryAfterOf(error: PosternError, reply: FastifyReply): string {
  const own = error.details?.retryAfterSeconds;
  if (typeof own === 'number' && Number.isFinite(own) && own > 0) return String(Math.ceil(own));
  const set = reply.getHeader('retry-after');
  return typeof set === 'string' || typeof set === 'number' ? String(set) : '60';
}

/**
 * Registers the error and not-found handlers on the root instance. `storageError` recognises the
 * store's failures (a full disk, a read-only file, a database gone away) in a driver's error.
 */
export function registerErrorHandling(
  app: FastifyInstance,
  storageError?: (error: unknown) => PosternError | undefined,
): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const posternError = toPosternError(error, storageError);
    if (posternError.code === 'INTERNAL') {
      request.log.error({ err: error }, 'unhandled error in %s %s', request.method, request.routeOptions.url);
    } else if (posternError.status >= 500) {
      request.log.error({ err: posternError }, posternError.message);
    }
    if (posternError.code === 'AUTH_RATE_LIMITED') void reply.header('retry-after', retryAfterOf(posternError, reply));
    return reply.status(posternError.status).send({ error: posternError.toJSON() });
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const error = new PosternError('ROUTE_NOT_FOUND', {
      message: `There is no route ${request.method} ${request.url.split('?')[0]}.`,
    });
    return reply.status(error.status).send({ error: error.toJSON() });
  });
}
