/**
 * Messages on a page: an API error with its message, remedy and code (role="alert"), or a
 * success or information banner (role="status").
 */
import type { ComponentChildren, JSX } from 'preact';
import type { ApiError } from '../api/client.js';

export function ErrorNotice({ error, title }: { error: ApiError; title?: string }): JSX.Element {
  const fields = error.fields;
  return (
    <div class="notice notice-error" role="alert">
      <div class="notice-body">
        {title === undefined ? null : <p class="notice-title">{title}</p>}
        <p>{error.message}</p>
        {fields.length > 0 ? (
          <ul class="notice-fields">
            {fields.map((f) => (
              <li key={f.field}>
                <code>{f.field}</code> {f.problem}
              </li>
            ))}
          </ul>
        ) : null}
        {error.remedy === undefined ? null : (
          <p class="notice-remedy">
            <strong>What to do:</strong> {error.remedy}
          </p>
        )}
        <p class="notice-code">
          Error code: <code>{error.code}</code>
        </p>
      </div>
    </div>
  );
}

export function Notice({
  tone,
  children,
  onDismiss,
}: {
  tone: 'success' | 'info' | 'warn' | 'error';
  children: ComponentChildren;
  onDismiss?: () => void;
}): JSX.Element {
  return (
    <div class={`notice notice-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      <div class="notice-body">{children}</div>
      {onDismiss === undefined ? null : (
        <button type="button" class="notice-dismiss" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}
