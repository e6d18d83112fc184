/** The conversation's contact: name, addresses, list and notes. */
import type { JSX } from 'preact';
import { getContact } from '../../api/contacts.js';
import type { Interaction } from '../../api/schemas.js';
import { useResource } from '../../lib/use-resource.js';

export function ContactCard({ contact }: { contact: Interaction['contact'] }): JSX.Element {
  const details = useResource(() => getContact(contact.id), String(contact.id));
  const full = details.data;
  return (
    <aside class="contact-card card" aria-labelledby="contact-title">
      <h3 id="contact-title">Contact</h3>
      <p class="contact-name">{full?.name ?? contact.name ?? contact.address ?? 'Unknown sender'}</p>
      <ul class="plain">
        {(full?.addresses ?? (contact.address === null ? [] : [contact.address])).map((address) => (
          <li key={address}>
            <a href={`mailto:${address}`}>{address}</a>
          </li>
        ))}
      </ul>
      {full?.notes == null || full.notes === '' ? null : <p class="contact-notes">{full.notes}</p>}
    </aside>
  );
}
