import { expect, it } from 'vitest';
import type { DB } from '../../src/store/schema.js';
import { forEachEngine } from '../helpers/store.js';

/**
 * The columns of every table as `schema.ts` declares them. The type makes this list exactly the
 * interface's keys (a missing or extra column does not compile); the test makes the migrated
 * database match it on each engine. Together: schema.ts and the migrations cannot drift apart.
 */
const DECLARED: { [T in keyof DB]: Record<keyof DB[T], true> } = {
  users: {
    id: true, username: true, display_name: true, role: true, password_hash: true, disabled: true, last_login_at:
    true, created_at: true, updated_at: true,
  },
  sessions: {
    id_hash: true, user_id: true, csrf_token: true, user_agent: true, ip: true, created_at: true, last_seen_at:
    true, expires_at: true,
  },
  api_tokens: {
    id: true, name: true, user_id: true, token_hash: true, prefix: true, created_at: true, last_used_at: true,
    expires_at: true, revoked_at: true,
  },
  cloud_providers: {
    id: true, name: true, service: true, type: true, application_id: true, tenant_id: true, client_secret_enc:
    true, client_secret_hint: true, client_secret_expires_at: true, redirect_uri: true, cloud: true,
    authority_url: true, ca_file: true, grant_type: true, scopes_json: true, status: true, last_error_code: true,
    last_error_message: true, last_error_remedy: true, status_changed_at: true, created_at: true, updated_at:
    true,
  },
  oauth_states: {
    id: true, state_hash: true, provider_id: true, pkce_verifier_enc: true, nonce: true, user_id: true,
    session_hash: true, redirect_to: true, login_hint: true, created_at: true, expires_at: true, used_at: true,
  },
  grants: {
    id: true, provider_id: true, upn: true, email: true, object_id: true, tenant_id: true, display_name: true, scopes_json:
    true, refresh_token_enc: true, password_enc: true, state: true, last_interactive_at: true, last_refresh_at:
    true, last_error_code: true, last_error_message: true, last_error_remedy: true, last_error_aadsts: true,
    last_error_at: true, created_at: true, updated_at: true,
  },
  grant_access_tokens: {
    id: true, grant_id: true, resource: true, access_token_enc: true, scopes_json: true, expires_at: true,
    obtained_at: true,
  },
  email_accounts: {
    id: true, name: true, key: true, email_address: true, default_list_id: true, active: true, service: true,
    modern_auth: true, username: true, password_enc: true, provider_id: true, modern_auth_email: true,
    description: true, transport: true, imap_host: true, imap_port: true, smtp_host: true, smtp_port: true,
    folder: true, scan_junk: true, after_fetch_action: true, after_fetch_folder: true, max_message_bytes: true,
    use_idle: true, poll_interval_seconds: true, first_sync_days: true, send_per_minute: true, recipients_per_day:
    true, send_concurrency: true, max_recipients_per_message: true, max_send_bytes: true, send_retry_hours: true, status: true, last_error_code: true, last_error_message: true, last_error_remedy: true,
    status_changed_at: true, created_at: true, updated_at: true,
  },
  account_agents: { account_id: true, user_id: true, created_at: true },
  mailbox_checkpoints: {
    id: true, account_id: true, folder: true, uidvalidity: true, last_uid: true, highest_modseq: true, delta_link:
    true, updated_at: true,
  },
  lists: { id: true, name: true, description: true, created_at: true, updated_at: true },
  contacts: { id: true, list_id: true, name: true, notes: true, created_at: true, updated_at: true },
  contact_addresses: { id: true, contact_id: true, address: true, position: true, created_at: true },
  interactions: {
    id: true, account_id: true, contact_id: true, subject: true, subject_token: true, status: true,
    assigned_user_id: true, last_activity_at: true, message_count: true, unread_count: true, closed_at: true,
    created_at: true, updated_at: true,
  },
  messages: {
    id: true, account_id: true, interaction_id: true, direction: true, message_id: true, in_reply_to: true,
    references_json: true, from_json: true, to_json: true, cc_json: true, bcc_json: true, reply_to_json: true,
    subject: true, text_body: true, html_body: true, header_date: true, is_auto_reply: true, is_bounce: true,
    is_list: true, is_junk: true, is_read: true, has_attachments: true, folder: true, uidvalidity: true, uid:
    true, raw_size: true, author_user_id: true, delivery_state: true, delivery_error: true, delivered_at: true,
    received_at: true, created_at: true, updated_at: true,
  },
  message_raw: { message_id: true, raw: true },
  attachments: {
    id: true, message_id: true, filename: true, content_type: true, size: true, content_id: true, inline: true,
    sha256: true, content: true, raw_part: true,
  },
  outbox: {
    id: true, message_id: true, account_id: true, state: true, attempts: true, next_attempt_at: true, claimed_by:
    true, claimed_until: true, last_error_code: true, last_error_message: true, idempotency_key: true, envelope_json:
    true, recipient_count: true, first_failed_at: true, last_attempt_at: true, last_error_remedy: true,
    last_response: true, sent_at: true, created_at: true, updated_at: true,
  },
  rate_counters: { id: true, account_id: true, window_kind: true, window_start: true, count: true },
  events: {
    id: true, scope: true, scope_id: true, type: true, level: true, message: true, data_json: true, created_at:
    true,
  },
  webhooks: {
    id: true, url: true, description: true, events_json: true, secret_enc: true, active: true, failure_count:
    true, last_success_at: true, last_failure_at: true, created_at: true, updated_at: true,
  },
  webhook_deliveries: {
    id: true, webhook_id: true, event_id: true, state: true, attempts: true, next_attempt_at: true,
    response_status: true, last_error: true, delivered_at: true, created_at: true, updated_at: true,
  },
  leases: { name: true, holder: true, acquired_at: true, expires_at: true },
  idempotency_keys: {
    id: true, owner: true, key: true, request_hash: true, response_status: true, response_json: true, created_at:
    true, expires_at: true,
  },
  meta: { key: true, value: true, updated_at: true },
};

forEachEngine((_engine, openFresh) => {
  it('has exactly the tables and columns that schema.ts declares', async () => {
    const db = await openFresh();
    const tables = await db.kysely.introspection.getTables();
    const actual = Object.fromEntries(
      tables.filter((table) => !table.name.startsWith('schema_migrations')).map((table) => [table.name, table.columns.map((column) => column.name).sort()]),
    );
    const expected = Object.fromEntries(
      Object.entries(DECLARED).map(([table, columns]) => [table, Object.keys(columns).sort()]),
    );
    expect(actual).toEqual(expected);
  });
});
