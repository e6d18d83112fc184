import type { CatalogueEntry } from '../catalogue.js';

/**
 * Errors of the address book: an address belongs to one contact only (ingest files mail under the
 * contact that owns its sender's address), and two contacts merge only within one list.
 */
export const CONTACT_ERRORS = {
  CONTACT_ADDRESS_TAKEN: {
    status: 409,
    kind: 'permanent',
    message: 'The email address already belongs to another contact.',
    remedy:
      'An address belongs to one contact only. If both contacts are the same person, merge them (open the contact, Merge); otherwise remove the address from the other contact first.',
  },
  CONTACT_MERGE_LIST_MISMATCH: {
    status: 409,
    kind: 'permanent',
    message: 'The two contacts are in different lists and cannot be merged.',
    remedy: 'Move one of them into the list of the other (edit the contact, List), then merge them.',
  },
} as const satisfies Record<string, CatalogueEntry>;
