import type { z } from 'zod';
import { PosternError } from './postern-error.js';

/** A zod failure as the catalogue's VALIDATION_FAILED, naming each field like the API does. */
function validationError(error: z.ZodError, where = 'input'): PosternError {
  const fields = error.issues.map((issue) => ({ field: issue.path.join('.') || where, problem: issue.message }));
  return new PosternError('VALIDATION_FAILED', {
    message: `The ${where} is invalid: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}.`,
    details: { in: where, fields },
  });
}

/** Parses `value` with `schema` or throws VALIDATION_FAILED. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where = 'input'): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}
