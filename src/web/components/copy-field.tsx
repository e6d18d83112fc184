/** A value to copy into another system (the redirect URI to register in Azure), with a copy button. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';

export function CopyField({ label, value }: { label: string; value: string }): JSX.Element {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <div class="copy-field">
      <code class="copy-value">{value}</code>
      <button type="button" class="button button-small" onClick={() => void copy()} aria-label={`Copy ${label}`}>
        Copy
      </button>
      <span class="copy-state" role="status">
        {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Select the text and copy it by hand' : ''}
      </span>
    </div>
  );
}
