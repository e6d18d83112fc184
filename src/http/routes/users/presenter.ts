import { z } from 'zod';
import type { UserRecord } from '../../../store/index.js';

export const userReply = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(['admin', 'agent']),
  disabled: z.boolean(),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
});

/** The fields of a user an API caller may see: an allowlist, so the password hash never leaves. */
export function presentUser(user: UserRecord): z.infer<typeof userReply> {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    disabled: user.disabled,
    lastLoginAt: user.lastLoginAt,
    createdAt: user.createdAt,
  };
}
