/**
 * RBAC for Applications in Exchange Online, the successor of application access policies: an
 * administrator registers the app's service principal in Exchange (`New-ServicePrincipal`), makes a
 * management scope (`New-ManagementScope -RecipientRestrictionFilter …`) and assigns an application
 * role to the app within it (`New-ManagementRoleAssignment -App <service principal> -Role
 * 'Application Mail.ReadWrite' -CustomResourceScope <scope>`). The app then holds that permission
 * for the mailboxes in the scope only, with no Entra application permission; when it also holds the
 * Entra permission, the two grants add up (Entra's covers every mailbox).
 *
 * The emulator models the scope as the list of mailboxes its recipient filter matches (primary
 * addresses, lower-case): no filter language.
 *
 * @see https://learn.microsoft.com/exchange/permissions-exo/application-rbac
 * @see ../../../shared/reference/microsoft-protocols.md §6 [SMTPRBAC]
 */

/** The application roles the emulator supports, and the permission each grants. */
export const APP_RBAC_ROLES = {
  'Application Mail.Read': 'mail.read',
  'Application Mail.ReadWrite': 'mail.readwrite',
  'Application Mail.Send': 'mail.send',
  'Application SMTP.SendAsApp': 'smtp.sendasapp',
} as const;

export type AppRbacRole = keyof typeof APP_RBAC_ROLES;

/** The role names, for validation (`z.enum`). */
export const APP_RBAC_ROLE_NAMES = [
  'Application Mail.Read',
  'Application Mail.ReadWrite',
  'Application Mail.Send',
  'Application SMTP.SendAsApp',
] as const satisfies readonly AppRbacRole[];

/** What the rule reads of a management role assignment (the directory's `ApplicationRoleAssignment`). */
export interface AppRoleAssignment {
  /** The app (client) id of the service principal the role is assigned to, lower-case. */
  readonly appId: string;
  /** One of `APP_RBAC_ROLES`; another name grants nothing. */
  readonly role: string;
  /** The management scope: the mailboxes its recipient filter matches, lower-case. */
  readonly mailboxes: readonly string[];
}

const PERMISSION_OF_ROLE: ReadonlyMap<string, string> = new Map(Object.entries(APP_RBAC_ROLES));

/**
 * Whether an app's role assignments grant one of `permissions` (bare, lower-case names such as
 * `mail.readwrite`) on the mailbox `address`.
 */
export function appRbacGrants(
  assignments: readonly AppRoleAssignment[],
  appId: string,
  permissions: readonly string[],
  address: string,
): boolean {
  const app = appId.toLowerCase();
  const mailbox = address.toLowerCase();
  return assignments.some(
    (a) =>
      a.appId === app && permissions.includes(PERMISSION_OF_ROLE.get(a.role) ?? '') && a.mailboxes.includes(mailbox),
  );
}
