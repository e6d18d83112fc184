/**
 * Addresses of outgoing mail, checked before a message is accepted: an addr-spec whose local part
 * is a dot-atom of ASCII characters and whose domain is a host name, internationalized domain
 * names (IDN) included — written in Unicode or as A-labels, converted to A-labels (punycode) for
 * the SMTP envelope and the header, so that no server has to support SMTPUTF8. Display names may
 * be any Unicode text (they are encoded as RFC 2047 words when the message is built).
 *
 * Non-ASCII local parts (RFC 6531) and quoted local parts are refused with a clear reason: they
 * are legal but rarely deliverable, and a refusal now beats a bounce later.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.4.1 (addr-spec), §3.2.3 (dot-atom)
 * @see https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1 (size limits: local part 64, domain 255, path 256)
 * @see https://www.rfc-editor.org/rfc/rfc5890 (IDNA: U-labels and A-labels)
 */
import { domainToASCII, domainToUnicode } from 'node:url';

/** A checked address. */
export interface OutboundAddress {
  /** Display name, trimmed; empty when none. */
  readonly name: string;
  /** The address with an A-label (ASCII) domain, lower-cased domain: what goes on the wire. */
  readonly address: string;
  /** The same address with the domain in Unicode, for display. */
  readonly display: string;
}

/** An address as the API accepts it: a bare address, or a name and an address. */
export type AddressInput = string | { readonly name?: string | null; readonly address: string };

/** The result of checking one address. */
export type AddressCheck =
  { readonly ok: true; readonly value: OutboundAddress } | { readonly ok: false; readonly problem: string };

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_ADDRESS = 254;
const MAX_NAME = 256;

/** Checks one address; `problem` says in plain words what is wrong. */
export function checkOutboundAddress(input: AddressInput): AddressCheck {
  const raw = typeof input === 'string' ? input : input.address;
  const name = typeof input === 'string' ? '' : (input.name ?? '').trim();
  if (/[\r\n\u0000]/.test(name)) return fail('the name must not contain line breaks');
  if ([...name].length > MAX_NAME) return fail(`the name must be at most ${MAX_NAME} characters`);
  const text = raw.trim();
  if (text === '') return fail('is empty');
  if (/[\s<>()[\]\\,;:"]/.test(text))
    return fail(`"${text}" must be a plain address such as name@example.com, without spaces, brackets or quotes`);
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return fail(`"${text}" must be an address such as name@example.com`);
  const local = text.slice(0, at);
  const domainText = text.slice(at + 1);
  if (!/^[\x20-\x7e]+$/.test(local))
    return fail(`"${text}": the part before @ must be ASCII (internationalized local parts are not supported)`);
  if (local.length > MAX_LOCAL) return fail(`"${text}": the part before @ must be at most ${MAX_LOCAL} characters`);
  if (!local.split('.').every((atom) => atom !== '' && ATEXT.test(atom)))
    return fail(`"${text}": the part before @ is not a valid address`);
  const ascii = domainToASCII(domainText.replace(/\.$/, '').toLowerCase());
  if (ascii === '' || ascii.length > MAX_DOMAIN) return fail(`"${text}": "${domainText}" is not a valid domain name`);
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label)) || /^\d+$/.test(labels.at(-1) ?? '')) {
    return fail(`"${text}": "${domainText}" is not a valid domain name`);
  }
  const address = `${local}@${ascii}`;
  if (address.length > MAX_ADDRESS) return fail(`"${text}" must be at most ${MAX_ADDRESS} characters`);
  return { ok: true, value: { name, address, display: `${local}@${domainToUnicode(ascii)}` } };
}

/** The domain of an address (the part after the last @), lower-case. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** True when two addresses name the same mailbox, compared regardless of case as Exchange does. */
export function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function fail(problem: string): AddressCheck {
  return { ok: false, problem };
}
