/**
 * The one way the UI talks to Postern: JSON under /api with the session cookie, the CSRF header on
 * every change (double-submit: the `postern_csrf` cookie's value), and API errors turned into
 * ApiError with the server's message and remedy. Replies are checked against a schema, so a
 * change of the API shows as a clear error instead of a blank screen.
 */
import * as z from 'zod/mini';

const CSRF_COOKIE = 'postern_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** One problem with one request field, as the API's VALIDATION_FAILED details list them. */
export interface FieldProblem {
  field: string;
  problem: string;
}

const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    remedy: z.optional(z.string()),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
});

const fieldProblems = z.array(z.object({ field: z.string(), problem: z.string() }));

/** An error reply of the API (or a failure to reach it), ready to show to a person. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly remedy: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, remedy?: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.remedy = remedy;
    this.details = details;
  }

  /** The per-field problems of a validation error, if any. */
  get fields(): FieldProblem[] {
    const parsed = fieldProblems.safeParse(this.details?.fields);
    return parsed.success ? parsed.data : [];
  }
}

/** Whether the browser holds a session (the CSRF cookie is readable; the session cookie is not). */
export function hasSessionCookie(): boolean {
  return csrfToken() !== '';
}

function csrfToken(): string {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return '';
}

type Listener = (error: ApiError) => void;
const sessionLostListeners = new Set<Listener>();

/** Called when the API says the session is missing or expired, wherever the request came from. */
export function onSessionLost(listener: Listener): () => void {
  sessionLostListeners.add(listener);
  return () => sessionLostListeners.delete(listener);
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
}

/** Sends a request and parses the reply with `schema`; a 204 reply needs `z.null()`-free callers: use `send`. */
export async function request<T>(
  method: string,
  path: string,
  schema: z.ZodMiniType<T>,
  options: RequestOptions = {},
): Promise<T> {
  const response = await perform(method, path, options);
  const json: unknown = await response.json().catch(() => {
    throw new ApiError(response.status, 'UI_BAD_REPLY', `The server's reply to ${method} ${path} is not JSON.`);
  });
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(
      response.status,
      'UI_BAD_REPLY',
      `The server's reply to ${method} ${path} has an unexpected shape.`,
      'Reload the page; if it persists, the UI and the server are of different versions.',
    );
  }
  return parsed.data;
}

/** Sends a request whose reply has no body (204). */
export async function send(method: string, path: string, options: RequestOptions = {}): Promise<void> {
  await perform(method, path, options);
}

async function perform(method: string, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE_METHODS.has(method)) headers['x-csrf-token'] = csrfToken();
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  } catch {
    throw new ApiError(
      0,
      'UI_OFFLINE',
      'Postern could not be reached.',
      'Check that the server is running and your network connection, then try again.',
    );
  }
  if (response.ok) return response;
  const error = await errorOf(response);
  if (error.code === 'AUTH_REQUIRED' || error.code === 'AUTH_SESSION_EXPIRED')
    for (const listener of sessionLostListeners) listener(error);
  throw error;
}

async function errorOf(response: Response): Promise<ApiError> {
  const json: unknown = await response.json().catch(() => null);
  const parsed = errorBody.safeParse(json);
  if (!parsed.success)
    return new ApiError(
      response.status,
      'UI_HTTP_ERROR',
      `The server answered ${response.status} ${response.statusText}.`,
    );
  const { code, message, remedy, details } = parsed.data.error;
  return new ApiError(response.status, code, message, remedy, details);
}

function withQuery(path: string, query: RequestOptions['query']): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}
