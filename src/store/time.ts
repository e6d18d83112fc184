/**
 * Timestamps are stored as ISO-8601 UTC text with milliseconds (`2026-01-31T12:00:00.000Z`): the
 * same on both engines, readable in a shell, and sorted by text exactly as by time.
 */
import type { Timestamp } from './schema.js';

/** The stored form of a date. */
export function toDbTime(date: Date): Timestamp {
  return date.toISOString();
}

/** A date from its stored form. */
export function fromDbTime(value: Timestamp): Date {
  return new Date(value);
}

/** `fromDbTime` for nullable columns. */
export function fromDbTimeOrNull(value: Timestamp | null): Date | null {
  return value === null ? null : new Date(value);
}

/** The stored form of a nullable date. */
export function toDbTimeOrNull(date: Date | null | undefined): Timestamp | null {
  return date === null || date === undefined ? null : date.toISOString();
}
