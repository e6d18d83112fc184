/** The conversation's contact: name, addresses, list and notes, with a link to the contact's page. */
import type { JSX } from 'preact';
import { getContact } from '../../api/contacts.js';
import type { Interaction } from '../../api/schemas.js';
import { EmailAddress } from '../../components/email-address.js';
import { Link } from '../../lib/router.js';
import { useResource } from '../../lib/use-resource.js';

export function ContactCard({ contact }: { contact: Interaction['contact'] }): JSX.Element {
  const details = useResource(() => getContact(contact.id), String(contact.id));
  const full = details.data;
  const name = full?.name ?? contact.name ?? contact.address ?? 'Unknown sender';
  return (
    <aside class="contact-card card" aria-labelledby="contact-title">
      <h3 id="contact-title">Contact</h3>
      <p class="contact-name">{name}</p>
      <ul class="plain contact-addresses">
        {(full?.addresses ?? (contact.address === null ? [] : [contact.address])).map((address) => (
          <li key={address}>
            <a href={`mailto:${address}`}>
              <EmailAddress address={address} />
            </a>
          </li>
        ))}
      </ul>
      {full?.notes == null || full.notes === '' ? null : <p class="contact-notes">{full.notes}</p>}
      {full === undefined ? null : (
        <p class="contact-more">
          <Link to={`/contacts/${full.id}`}>Contact page of {full.name}</Link>
        </p>
      )}
    </aside>
  );
}
