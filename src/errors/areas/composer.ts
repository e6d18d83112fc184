import type { CatalogueEntry } from '../catalogue.js';

/**
 * Errors of what the reply composer inserts: canned answers (shared ones are the administrators',
 * personal ones their owner's) and signatures.
 */
export const COMPOSER_ERRORS = {
  CANNED_ANSWER_SHARED_ADMIN_ONLY: {
    status: 403,
    kind: 'permanent',
    message: 'Only administrators create, change or delete shared canned answers.',
    remedy:
      'Save it as a personal answer (leave "Shared with all agents" unticked), or ask an administrator to share it.',
  },
  CANNED_ANSWER_LIMIT_REACHED: {
    status: 409,
    kind: 'permanent',
    message: 'There are too many canned answers here to add another one.',
    remedy: 'Delete canned answers that are no longer used (Canned answers page), then add the new one.',
  },
} as const satisfies Record<string, CatalogueEntry>;
