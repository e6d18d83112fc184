/**
 * JSON columns are text on both engines. Writing is `JSON.stringify`; reading goes through a zod
 * schema, because what comes back from storage is a trust boundary too.
 */
import type { z } from 'zod';
import { PosternError } from '../errors/index.js';
import type { JsonText } from './schema.js';

/** The stored form of a JSON value. */
export function toJsonText(value: unknown): JsonText {
  return JSON.stringify(value);
}

/**
 * Parses a JSON column and validates it.
 *
 * @param where names the column in the error, e.g. `events.data_json`.
 * @throws PosternError INTERNAL when the stored text is not valid JSON of the expected shape.
 */
export function fromJsonText<S extends z.ZodType>(text: JsonText, schema: S, where: string): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PosternError('INTERNAL', { message: `The stored JSON of ${where} is not valid JSON.`, cause: error });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new PosternError('INTERNAL', {
      message: `The stored JSON of ${where} has an unexpected shape.`,
      cause: parsed.error,
    });
  }
  return parsed.data;
}
