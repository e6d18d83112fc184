/**
 * A browser-free walk of the emulator's sign-in pages: fetch the page, parse its form, fill the
 * fields, post it, follow what comes back — carrying cookies like a browser. No redirects are
 * followed automatically; the walk stops at the redirect to the client (or at a page it cannot
 * continue from) and returns it.
 */
import type { CaFetch } from '../../../emulator/tls/ca-fetch.js';

/** A parsed HTML form. */
export interface ParsedForm {
  id: string | undefined;
  method: string;
  action: string;
  /** Hidden and pre-filled inputs. */
  fields: Record<string, string>;
}

function decodeEntities(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
  return match?.[1] === undefined ? undefined : decodeEntities(match[1]);
}

/** Every form of a page with its inputs' current values. */
export function parseForms(html: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const open = match[1] ?? '';
    const inner = match[2] ?? '';
    const fields: Record<string, string> = {};
    for (const input of inner.matchAll(/<input\b[^>]*>/gi)) {
      const tag = input[0];
      const name = attribute(tag, 'name');
      const type = attribute(tag, 'type') ?? 'text';
      if (name === undefined || type === 'checkbox' || type === 'submit') continue;
      fields[name] = attribute(tag, 'value') ?? '';
    }
    forms.push({
      id: attribute(` ${open}`, 'id'),
      method: (attribute(` ${open}`, 'method') ?? 'get').toLowerCase(),
      action: attribute(` ${open}`, 'action') ?? '',
      fields,
    });
  }
  return forms;
}

/** The AADSTS code a page shows in its error line, if any. */
export function pageError(html: string): { code: number; message: string } | undefined {
  const match = /id="error"[^>]*data-aadsts="(\d+)"[^>]*>([^<]*)</.exec(html);
  return match?.[1] === undefined ? undefined : { code: Number(match[1]), message: decodeEntities(match[2] ?? '') };
}

/** Where a walk ended. */
export type WalkResult =
  | { kind: 'redirect'; location: URL }
  | { kind: 'form_post'; action: string; fields: Record<string, string> }
  | {
      kind: 'page';
      status: number;
      html: string;
      form: ParsedForm | undefined;
      error: { code: number; message: string } | undefined;
    };

/** What to answer on each page. */
export interface Answers {
  username?: string;
  password?: string;
  mfaCode?: string;
  /** `accept` (default), `cancel`, or `stop` to return the consent page. */
  consent?: 'accept' | 'cancel' | 'stop';
  /** Tick "Consent on behalf of your organization" (admins only). */
  consentOnBehalf?: boolean;
  /** Press Back on the credentials page. */
  cancelSignIn?: boolean;
  /** Device flow: the user code to type on /devicelogin. */
  userCode?: string;
}

/** A cookie-carrying client for one "browser". */
export class FormBrowser {
  readonly cookies = new Map<string, string>();
  /** The pages seen during the last walk, in order (form ids). */
  readonly trail: string[] = [];
  readonly #fetch: CaFetch;

  constructor(fetchWithCa: CaFetch) {
    this.#fetch = fetchWithCa;
  }

  async #request(url: string, init: { method: string; body?: string }): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await this.#fetch(url, {
      method: init.method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name === undefined || name.length === 0) continue;
      if (/max-age=0/i.test(line)) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join('='));
    }
    return response;
  }

  async #settle(response: Response, base: string): Promise<WalkResult> {
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      if (location === null) throw new Error('redirect without Location');
      return { kind: 'redirect', location: new URL(location, base) };
    }
    const html = await response.text();
    const forms = parseForms(html);
    const hidden = forms.find((f) => f.id === undefined && /name="hiddenform"/.test(html));
    if (hidden !== undefined) return { kind: 'form_post', action: hidden.action, fields: hidden.fields };
    return { kind: 'page', status: response.status, html, form: forms[0], error: pageError(html) };
  }

  /** GETs a URL (an authorize URL, `/devicelogin`...) and returns where it lands. */
  async open(url: string): Promise<WalkResult> {
    this.trail.length = 0;
    return this.#settle(await this.#request(url, { method: 'GET' }), url);
  }

  /** Submits a form with extra fields. */
  async submit(form: ParsedForm, base: string, extra: Record<string, string>): Promise<WalkResult> {
    this.trail.push(form.id ?? '(anonymous)');
    const url = new URL(form.action, base).toString();
    const body = new URLSearchParams({ ...form.fields, ...extra }).toString();
    return this.#settle(await this.#request(url, { method: 'POST', body }), url);
  }

  /** Opens `url` and answers each page until the flow leaves the emulator's pages or stalls. */
  async walk(url: string, answers: Answers): Promise<WalkResult> {
    let result = await this.open(url);
    const seen = new Set<string>();
    for (let step = 0; step < 10; step += 1) {
      if (result.kind !== 'page' || result.form === undefined) return result;
      const form = result.form;
      const key = `${form.id}:${form.fields.ctx ?? ''}:${result.error?.code ?? ''}`;
      if (seen.has(key)) return result;
      seen.add(key);
      if (result.error !== undefined && form.id !== 'credentials' && form.id !== 'mfa' && form.id !== 'devicecode')
        return result;
      switch (form.id) {
        case 'devicecode':
          if (answers.userCode === undefined || result.error !== undefined) return result;
          result = await this.submit(form, url, { otc: answers.userCode, action: 'next' });
          break;
        case 'credentials':
          if (result.error !== undefined) return result;
          result = await this.submit(
            form,
            url,
            answers.cancelSignIn === true
              ? { action: 'cancel' }
              : { loginfmt: answers.username ?? '', passwd: answers.password ?? '', action: 'signin' },
          );
          break;
        case 'mfa':
          if (result.error !== undefined) return result;
          result = await this.submit(form, url, { otc: answers.mfaCode ?? '', action: 'verify' });
          break;
        case 'consent':
          if (answers.consent === 'stop') return result;
          result = await this.submit(form, url, {
            action: answers.consent === 'cancel' ? 'cancel' : 'accept',
            ...(answers.consentOnBehalf === true ? { consent_on_behalf: '1' } : {}),
          });
          break;
        default:
          return result;
      }
    }
    return result;
  }
}
