/**
 * What the reply composer and the forward / new email composer share: the To, Cc and Bcc rows,
 * files attached by the button or dropped on the composer (with the account's maximum message size
 * shown, and files over it refused before they are read), and the list of attached files.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { OutgoingAttachment } from '../../api/interactions.js';
import { accountSending } from '../../api/email-accounts.js';
import type { MailAddress } from '../../api/schemas.js';
import { formatSize } from '../../lib/mail-format.js';
import { RecipientField } from './recipient-field.js';

/** The To, Cc and Bcc rows; `children` after them (a forward's subject). */
export function RecipientRows({
  to,
  cc,
  bcc,
  onTo,
  onCc,
  onBcc,
  before,
  children,
}: {
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  onTo: (addresses: MailAddress[]) => void;
  onCc: (addresses: MailAddress[]) => void;
  onBcc: (addresses: MailAddress[]) => void;
  /** Rows above To (a new email's From). */
  before?: ComponentChildren;
  children?: ComponentChildren;
}): JSX.Element {
  return (
    <div class="recipients">
      {before}
      <RecipientField label="To" addresses={to} onChange={onTo} />
      <RecipientField label="Cc" addresses={cc} onChange={onCc} />
      <RecipientField label="Bcc" addresses={bcc} onChange={onBcc} />
      {children}
    </div>
  );
}

/** The size of an attachment read as base64. */
export function attachmentSize(file: OutgoingAttachment): number {
  return Math.floor((file.contentBase64.length * 3) / 4);
}

/**
 * The account's maximum message size (its sending settings, which an agent of the account may
 * read), or null while unknown: then nothing is refused in the browser and the server decides.
 */
export function useMaxMessageBytes(accountId: number | null): number | null {
  const [max, setMax] = useState<number | null>(null);
  useEffect(() => {
    setMax(null);
    if (accountId === null) return undefined;
    let current = true;
    accountSending(accountId).then(
      (sending) => current && setMax(sending.maxMessageBytes),
      // Unknown: the server still checks the size when the message is sent.
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [accountId]);
  return max;
}

/**
 * Files attached to a composer: the Attach files button (the keyboard's way) with the account's
 * limit next to it, a drop zone over the whole composer while files are dragged over it, and the
 * attached files with a Remove button each. A file that would take the message over the limit is
 * refused with a message, before it is read.
 */
export function useAttachments(maxBytes: number | null, alreadyBytes = 0) {
  const [files, setFiles] = useState<OutgoingAttachment[]>([]);
  const [refused, setRefused] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);
  const fileId = useId();
  const used = useRef(0);
  used.current = alreadyBytes + files.reduce((sum, file) => sum + attachmentSize(file), 0);

  const add = async (list: readonly File[]): Promise<void> => {
    if (list.length === 0) return;
    const accepted: File[] = [];
    const problems: string[] = [];
    let total = used.current;
    for (const file of list) {
      if (maxBytes !== null && total + file.size > maxBytes) {
        problems.push(
          file.size > maxBytes
            ? `${file.name} is ${formatSize(file.size)}: this account sends messages of up to ${formatSize(maxBytes)}.`
            : `${file.name} (${formatSize(file.size)}) would take the message over ${formatSize(maxBytes)}, this account's limit.`,
        );
        continue;
      }
      total += file.size;
      accepted.push(file);
    }
    setRefused(problems.length === 0 ? null : problems.join(' '));
    const read = await Promise.all(accepted.map(readAttachment));
    setFiles((old) => [...old, ...read]);
  };

  const hasFiles = (event: DragEvent): boolean => event.dataTransfer?.types.includes('Files') === true;
  /** Props for the composer's form: it is the drop zone. */
  const dropTarget = {
    onDragEnter: (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth.current += 1;
      setDragging(true);
    },
    onDragOver: (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer !== null) event.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    onDrop: (event: DragEvent): void => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth.current = 0;
      setDragging(false);
      void add(Array.from(event.dataTransfer?.files ?? []));
    },
  };

  const clear = (): void => {
    setFiles([]);
    setRefused(null);
  };

  return { files, setFiles, add, clear, refused, dragging, dropTarget, fileId, maxBytes };
}

/** What {@link useAttachments} returns. */
export type Attachments = ReturnType<typeof useAttachments>;

/** The Attach files button (a label for the hidden file input) and the account's limit. */
export function AttachButton({ attachments }: { attachments: Attachments }): JSX.Element {
  const limitId = useId();
  return (
    <span class="attach">
      <label for={attachments.fileId} class="button button-small">
        Attach files
      </label>
      <input
        id={attachments.fileId}
        type="file"
        multiple
        class="visually-hidden"
        aria-describedby={attachments.maxBytes === null ? undefined : limitId}
        onChange={(event) => {
          const input = event.currentTarget;
          void attachments.add(Array.from(input.files ?? []));
          // The same file can be chosen again after it was removed.
          input.value = '';
        }}
      />
      {attachments.maxBytes === null ? null : (
        <span id={limitId} class="muted attach-limit">
          up to {formatSize(attachments.maxBytes)}
        </span>
      )}
    </span>
  );
}

/** The drop zone shown over the composer while files are dragged over it, and a refusal. */
export function DropZone({ attachments }: { attachments: Attachments }): JSX.Element {
  return (
    <>
      {attachments.dragging ? (
        <div class="drop-zone" aria-hidden="true">
          Drop files to attach them
          {attachments.maxBytes === null ? '' : ` (up to ${formatSize(attachments.maxBytes)})`}
        </div>
      ) : null}
      {attachments.refused === null ? null : (
        <p class="field-problem" role="alert">
          {attachments.refused}
        </p>
      )}
    </>
  );
}

/** The files the agent attached, each with its size and a Remove button. */
export function AttachedFiles({ attachments }: { attachments: Attachments }): JSX.Element | null {
  const { files, setFiles } = attachments;
  if (files.length === 0) return null;
  return (
    <ul class="attachments" aria-label="Attached files">
      {files.map((file, index) => (
        <li key={`${file.filename}-${index}`}>
          {file.filename} <span class="muted">{formatSize(attachmentSize(file))}</span>{' '}
          <button
            type="button"
            class="button button-small"
            onClick={() => setFiles(files.filter((_, i) => i !== index))}
            aria-label={`Remove ${file.filename}`}
          >
            Remove
          </button>
        </li>
      ))}
    </ul>
  );
}

/** A file read as an attachment of an outgoing message. */
export function readAttachment(file: File): Promise<OutgoingAttachment> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.onload = () => {
      const result = typeof reader.result === 'string' ? reader.result : '';
      resolve({
        filename: file.name,
        contentType: file.type === '' ? 'application/octet-stream' : file.type,
        contentBase64: result.slice(result.indexOf(',') + 1),
      });
    };
    reader.readAsDataURL(file);
  });
}
