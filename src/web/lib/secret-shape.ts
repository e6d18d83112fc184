/** What the console can tell about a client secret before Microsoft sees it. */

/**
 * Azure shows a client secret's ID (a GUID) next to its Value, and the ID is what people paste by
 * mistake: Microsoft then refuses it with AADSTS7000215 at the first sign-in. Values are not GUIDs.
 */
export function secretIdWarning(secret: string): string | undefined {
  return isGuid(secret.trim())
    ? "This looks like the secret's ID, not its Value. In the Azure portal, Certificates & secrets, copy the Value column (shown only right after the secret is created)."
    : undefined;
}

/** 8-4-4-4-12 hexadecimal digits, checked character by character. */
function isGuid(text: string): boolean {
  if (text.length !== 36) return false;
  for (let i = 0; i < 36; i += 1) {
    const c = text.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) return false;
  }
  return true;
}
