/**
 * One recipient line of the composer (To, Cc or Bcc): the addresses as removable chips and a box
 * to add one. An added address is checked by the server with the same rules as a send request
 * (so a line break, a NUL or a bad domain is refused as it is typed, not at Send); the box offers
 * the contacts whose name or address matches what is typed.
 */
import type { JSX } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { searchContacts } from '../../api/contacts.js';
import { checkAddress } from '../../api/interactions.js';
import type { MailAddress } from '../../api/schemas.js';
import { toApiError } from '../../lib/use-resource.js';

const SUGGEST_AFTER = 2;
const SUGGEST_DELAY_MS = 250;

export function RecipientField({
  label,
  addresses,
  onChange,
}: {
  label: 'To' | 'Cc' | 'Bcc';
  addresses: MailAddress[];
  onChange: (next: MailAddress[]) => void;
}): JSX.Element {
  const [typed, setTyped] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [suggestions, setSuggestions] = useState<MailAddress[]>([]);
  const inputId = useId();
  const listId = useId();

  useEffect(() => {
    const q = typed.trim();
    if (q.length < SUGGEST_AFTER) {
      setSuggestions([]);
      return undefined;
    }
    const timer = window.setTimeout(() => {
      searchContacts({ q, limit: 8 }).then(
        (page) =>
          setSuggestions(
            page.items.flatMap((contact) => contact.addresses.map((address) => ({ name: contact.name, address }))),
          ),
        () => setSuggestions([]),
      );
    }, SUGGEST_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [typed]);

  const add = (): void => {
    const text = typed.trim();
    if (text === '' || busy) return;
    const known = suggestions.find((s) => s.address.toLowerCase() === text.toLowerCase());
    setBusy(true);
    checkAddress(text).then(
      (result) => {
        setBusy(false);
        if (!result.ok) {
          setProblem(result.problem);
          return;
        }
        setProblem(undefined);
        setTyped('');
        const address = { name: known?.name ?? result.address.name, address: result.address.address };
        if (!addresses.some((a) => a.address.toLowerCase() === address.address.toLowerCase()))
          onChange([...addresses, address]);
      },
      (caught: unknown) => {
        setBusy(false);
        setProblem(toApiError(caught).message);
      },
    );
  };

  return (
    <div class="recipient-field">
      <label for={inputId} class="recipient-label">
        {label}
      </label>
      <ul class="recipient-chips" aria-label={`${label} recipients`}>
        {addresses.map((address) => (
          <li key={address.address} class="recipient-chip" title={address.address}>
            <span>{address.name === '' ? address.address : `${address.name} <${address.address}>`}</span>
            <button
              type="button"
              class="recipient-remove"
              aria-label={`Remove ${address.address} from ${label}`}
              onClick={() => onChange(addresses.filter((a) => a !== address))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <input
        id={inputId}
        class="recipient-input"
        type="text"
        inputMode="email"
        autoComplete="off"
        list={listId}
        value={typed}
        aria-label={`Add to ${label}`}
        aria-invalid={problem === undefined ? undefined : true}
        onInput={(event) => {
          setTyped(event.currentTarget.value);
          setProblem(undefined);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' || event.key === ',' || event.key === ';') {
            event.preventDefault();
            add();
          }
        }}
        onBlur={() => {
          if (typed.trim() !== '') add();
        }}
        placeholder="Add an address"
      />
      <datalist id={listId}>
        {suggestions.map((s) => (
          <option key={s.address} value={s.address}>
            {s.name}
          </option>
        ))}
      </datalist>
      {problem === undefined ? null : (
        <p class="recipient-problem" role="alert">
          {label}: {problem}
        </p>
      )}
    </div>
  );
}
