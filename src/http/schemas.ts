import { z } from 'zod';
import { LIMITS } from '../config/index.js';

/** Shared pieces of request and response schemas. */
export const idParam = z.object({ id: z.coerce.number().int().positive('must be a positive integer') });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
  offset: z.coerce.number().int().min(0).default(0),
});

export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    remedy: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
}

export const emailAddress = z
  .string()
  .trim()
  .max(320, 'must be at most 320 characters')
  .email('must be an email address such as name@example.com');

export const role = z.enum(['admin', 'agent']);

export const password = z
  .string()
  .min(LIMITS.passwordMinLength, `must be at least ${LIMITS.passwordMinLength} characters`)
  .max(1024, 'must be at most 1024 characters');

/** A page of timeline events, as the provider and account timelines return it. */
export const eventPageReply = z.object({
  items: z.array(
    z.object({
      id: z.number(),
      type: z.string(),
      level: z.string(),
      message: z.string(),
      data: z.record(z.string(), z.unknown()).nullable(),
      createdAt: z.string(),
    }),
  ),
  nextBefore: z.number().nullable(),
});

/** Only the fields of an event an API caller may see. */
export function presentEventPage(page: {
  items: ReadonlyArray<{
    id: number;
    type: string;
    level: string;
    message: string;
    data: Record<string, unknown> | null;
    createdAt: string;
  }>;
  nextBefore: number | null;
}): z.infer<typeof eventPageReply> {
  return {
    items: page.items.map((e) => ({
      id: e.id,
      type: e.type,
      level: e.level,
      message: e.message,
      data: e.data,
      createdAt: e.createdAt,
    })),
    nextBefore: page.nextBefore,
  };
}

export const beforeQuery = z.object({ before: z.coerce.number().int().positive().optional() });
