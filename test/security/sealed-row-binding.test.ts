/**
 * Sealed secrets were bound to their column but not to their row (issue 13, point 7): someone who
 * can write the database could copy one grant's refresh token, one account's password or one
 * provider's client secret into another row, and Postern would use it there. v2 values carry the
 * row's primary key in their associated data, so a copy fails with SECRET_VALUE_CORRUPT naming the
 * table, column and row. A database of v1 values is re-sealed once, at start; rotation re-seals per
 * row, verifies every value with the new key and removes the old key file unless asked to keep it.
 * Real SQLite files, the store's own functions and the built `postern` binary.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPosternError, type PosternError } from '../../src/errors/index.js';
import {
  createEmailAccount,
  createProvider,
  createWebhook,
  ensureKeyCheck,
  findUsableAccessToken,
  keyIdOf,
  migrateToLatest,
  openDatabase,
  openEmailAccountPassword,
  openGrantCredentials,
  openProviderSecret,
  openWebhookSecret,
  requireEmailAccount,
  requireGrant,
  requireProvider,
  requireWebhook,
  rotateSecretKey,
  SecretBox,
  setEmailAccountPassword,
  storeRefreshedTokens,
  upgradeSealedValues,
  upsertGrant,
  verifySealedColumns,
  type Database,
} from '../../src/store/index.js';
import { readSealedColumn } from '../../src/store/key-rotation.js';
import { ENCRYPTED_COLUMNS } from '../../src/store/encrypted-columns.js';
import { runCliAsync } from '../helpers/cli.js';
import { rewriteAsV1 } from '../helpers/seal-v1.js';

const RESOURCE = 'https://outlook.office365.com';

/** Two rows of each kind, each with its own distinctive secrets. */
interface Seeded {
  providers: [number, number];
  grants: [number, number];
  accounts: [number, number];
  webhooks: [number, number];
}

const dirs: string[] = [];
const opened: Database[] = [];

afterAll(async () => {
  for (const db of opened) await db.close().catch(() => undefined);
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-sealed-rows-'));
  dirs.push(dir);
  return dir;
}

async function openSqlite(file: string): Promise<Database> {
  const db = await openDatabase(`sqlite:${file}`);
  opened.push(db);
  await migrateToLatest(db);
  return db;
}

function secretOf(kind: string, n: number): string {
  return `${kind}-${n}-cleartext-marker`;
}

/** Writes two providers, grants (with cached access tokens), IMAP accounts and webhooks. */
async function seed(db: Database, box: SecretBox): Promise<Seeded> {
  const providers: number[] = [];
  const grants: number[] = [];
  const accounts: number[] = [];
  const webhooks: number[] = [];
  for (const n of [1, 2]) {
    const provider = await createProvider(
      db,
      box,
      {
        name: `Contoso ${n}`,
        service: 'microsoft-azure',
        type: 'outlook365',
        applicationId: `00000000-0000-0000-0000-00000000000${n}`,
        tenantId: 'contoso.onmicrosoft.com',
        redirectUri: null,
        cloud: 'global',
        authorityUrl: null,
        caFile: null,
        grantType: 'authorization_code',
        scopes: ['offline_access'],
      },
      { kind: 'secret', secret: secretOf('CLIENT-SECRET', n), expiresAt: null },
    );
    providers.push(provider.id);
    const grant = await upsertGrant(db, box, {
      providerId: provider.id,
      upn: `user${n}@contoso.example`,
      objectId: `oid-${n}`,
      tenantId: 'contoso.onmicrosoft.com',
      displayName: `User ${n}`,
      scopes: ['offline_access'],
      refreshToken: secretOf('REFRESH-TOKEN', n),
      password: secretOf('ROPC-PASSWORD', n),
      interactive: true,
    });
    grants.push(grant.id);
    await storeRefreshedTokens(db, box, grant.id, {
      refreshToken: null,
      resource: RESOURCE,
      accessToken: secretOf('ACCESS-TOKEN', n),
      scopes: ['IMAP.AccessAsUser.All'],
      expiresAt: new Date(db.now().getTime() + 3_600_000),
    });
    const account = await createEmailAccount(db, {
      name: `Support ${n}`,
      key: `S${n}`,
      emailAddress: `support${n}@contoso.example`,
      username: `support${n}@contoso.example`,
      service: 'imap',
      modernAuth: false,
    });
    await setEmailAccountPassword(db, box, account.id, secretOf('IMAP-PASSWORD', n));
    accounts.push(account.id);
    const webhook = await createWebhook(db, box, {
      url: `https://127.0.0.1:9/hook/${n}`,
      events: ['message.received'],
      secret: secretOf('WEBHOOK-SECRET', n),
    });
    webhooks.push(webhook.id);
  }
  return {
    providers: [providers[0] ?? 0, providers[1] ?? 0],
    grants: [grants[0] ?? 0, grants[1] ?? 0],
    accounts: [accounts[0] ?? 0, accounts[1] ?? 0],
    webhooks: [webhooks[0] ?? 0, webhooks[1] ?? 0],
  };
}

/** Every secret of row `index` (0 or 1) opened through the store, as the services open them. */
async function openThroughStore(db: Database, box: SecretBox, ids: Seeded, index: 0 | 1): Promise<string[]> {
  const credentials = openGrantCredentials(box, await requireGrant(db, ids.grants[index]));
  const webhook = await requireWebhook(db, ids.webhooks[index]);
  const access = await findUsableAccessToken(db, box, ids.grants[index], RESOURCE, 0);
  return [
    openProviderSecret(box, await requireProvider(db, ids.providers[index])) ?? '',
    credentials.refreshToken ?? '',
    credentials.password ?? '',
    access?.token ?? '',
    openEmailAccountPassword(box, await requireEmailAccount(db, ids.accounts[index])) ?? '',
    openWebhookSecret(box, webhook),
  ];
}

function expectedSecrets(index: 0 | 1): string[] {
  const n = index + 1;
  return ['CLIENT-SECRET', 'REFRESH-TOKEN', 'ROPC-PASSWORD', 'ACCESS-TOKEN', 'IMAP-PASSWORD', 'WEBHOOK-SECRET'].map(
    (kind) => secretOf(kind, n),
  );
}

/** Copies one row's sealed value into another row of the same column, as a database writer could. */
async function copySealed(db: Database, table: string, column: string, from: number, to: number): Promise<void> {
  await sql`update ${sql.table(table)} set ${sql.ref(column)} =
    (select ${sql.ref(column)} from ${sql.table(table)} where id = ${from}) where id = ${to}`.execute(db.kysely);
}

async function failure(fn: () => unknown): Promise<PosternError> {
  try {
    await fn();
  } catch (error) {
    if (isPosternError(error)) return error;
    throw error;
  }
  throw new Error('expected a PosternError');
}

/** The error names the table, column and row, and holds no secret of either row. */
function expectRowNamed(error: PosternError, table: string, column: string, row: number): void {
  expect(error.code).toBe('SECRET_VALUE_CORRUPT');
  expect(error.details).toMatchObject({ table, column, row });
  expect(error.message).toContain(`(row ${row})`);
  const everything = `${error.message} ${JSON.stringify(error)}`;
  for (const secret of [...expectedSecrets(0), ...expectedSecrets(1)]) expect(everything).not.toContain(secret);
}

describe('a sealed value copied into another row of the same column', () => {
  let db: Database;
  let box: SecretBox;
  let ids: Seeded;

  beforeAll(async () => {
    db = await openSqlite(path.join(tempDir(), 'postern.db'));
    box = new SecretBox(crypto.randomBytes(32));
    await ensureKeyCheck(db, box);
    ids = await seed(db, box);
    expect(await openThroughStore(db, box, ids, 0)).toEqual(expectedSecrets(0));
    expect(await openThroughStore(db, box, ids, 1)).toEqual(expectedSecrets(1));
  });

  it("a grant's refresh token (and ROPC password) does not open in the other grant; the original still does", async () => {
    const [a, b] = ids.grants;
    await copySealed(db, 'grants', 'refresh_token_enc', a, b);
    const grantB = await requireGrant(db, b);
    expectRowNamed(await failure(() => openGrantCredentials(box, grantB)), 'grants', 'refresh_token_enc', b);
    expect(openGrantCredentials(box, await requireGrant(db, a)).refreshToken).toBe(secretOf('REFRESH-TOKEN', 1));

    await copySealed(db, 'grants', 'password_enc', b, a);
    const grantA = await requireGrant(db, a);
    expectRowNamed(await failure(() => openGrantCredentials(box, grantA)), 'grants', 'password_enc', a);
  });

  it("an email account's password does not open in the other account; the original still does", async () => {
    const [a, b] = ids.accounts;
    await copySealed(db, 'email_accounts', 'password_enc', a, b);
    const accountB = await requireEmailAccount(db, b);
    expectRowNamed(await failure(() => openEmailAccountPassword(box, accountB)), 'email_accounts', 'password_enc', b);
    expect(openEmailAccountPassword(box, await requireEmailAccount(db, a))).toBe(secretOf('IMAP-PASSWORD', 1));
  });

  it("a provider's client secret does not open in the other provider; the original still does", async () => {
    const [a, b] = ids.providers;
    await copySealed(db, 'cloud_providers', 'client_secret_enc', b, a);
    const providerA = await requireProvider(db, a);
    expectRowNamed(await failure(() => openProviderSecret(box, providerA)), 'cloud_providers', 'client_secret_enc', a);
    expect(openProviderSecret(box, await requireProvider(db, b))).toBe(secretOf('CLIENT-SECRET', 2));
  });

  it('a webhook secret and a cached access token do not open in another row either', async () => {
    const [a, b] = ids.webhooks;
    await copySealed(db, 'webhooks', 'secret_enc', a, b);
    const webhookB = await requireWebhook(db, b);
    expectRowNamed(await failure(() => openWebhookSecret(box, webhookB)), 'webhooks', 'secret_enc', b);

    const tokens = await db.kysely.selectFrom('grant_access_tokens').select(['id', 'grant_id']).orderBy('id').execute();
    const [first, second] = tokens;
    if (first === undefined || second === undefined) throw new Error('two access tokens expected');
    await copySealed(db, 'grant_access_tokens', 'access_token_enc', first.id, second.id);
    expectRowNamed(
      await failure(() => findUsableAccessToken(db, box, second.grant_id, RESOURCE, 0)),
      'grant_access_tokens',
      'access_token_enc',
      second.id,
    );
  });
});

describe('the v1 → v2 upgrade of a database written by an earlier release', () => {
  it('re-seals every value bound to its row; every value opens through the store; a second run changes nothing', async () => {
    const key = crypto.randomBytes(32);
    const box = new SecretBox(key);
    const db = await openSqlite(path.join(tempDir(), 'postern.db'));
    await ensureKeyCheck(db, box);
    const ids = await seed(db, box);
    const total = await rewriteAsV1(db, key);
    expect(total).toBe(12);
    // Before the upgrade the services cannot use a v1 value: open refuses it.
    const grant = await requireGrant(db, ids.grants[0]);
    expect((await failure(() => openGrantCredentials(box, grant))).message).toContain('v1 format');

    expect(await ensureKeyCheck(db, box)).toBe('verified');
    expect(await upgradeSealedValues(db, box)).toEqual({ ran: true, upgraded: total, unreadable: [] });
    expect(await openThroughStore(db, box, ids, 0)).toEqual(expectedSecrets(0));
    expect(await openThroughStore(db, box, ids, 1)).toEqual(expectedSecrets(1));
    expect(await verifySealedColumns(db, box)).toBe(total);

    const before = await allSealed(db);
    expect(Object.values(before).every((value) => value.startsWith('v2.'))).toBe(true);
    expect(await upgradeSealedValues(db, box)).toEqual({ ran: false, upgraded: 0, unreadable: [] });
    expect(await allSealed(db)).toEqual(before);
  });
});

/** Every sealed value of the database by column and row, and the key check. */
async function allSealed(db: Database): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const spec of ENCRYPTED_COLUMNS) {
    for (const row of await readSealedColumn(db, spec)) values[`${spec.context}:${row.row_key}`] = row.sealed;
  }
  const check = await db.kysely.selectFrom('meta').select('value').where('key', '=', 'secret_key_check').execute();
  for (const row of check) values['meta:secret_key_check'] = row.value;
  return values;
}

/**
 * Every file of the data directory, concatenated (database, WAL, logs, key files): where an old
 * key must no longer be found.
 */
function dataDirBytes(dir: string): Buffer {
  const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return Buffer.concat(files.map((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name))));
}

// Each test runs one CLI process, which loads the whole program: several seconds on a busy machine.
describe('postern secrets rotate', { timeout: 120_000 }, () => {
  let dataDir: string;
  let keyFile: string;
  let ids: Seeded;

  beforeAll(async () => {
    dataDir = tempDir();
    keyFile = path.join(dataDir, 'secret.key');
    const key = crypto.randomBytes(32);
    fs.writeFileSync(keyFile, `${key.toString('hex')}\n`, { mode: 0o600 });
    const db = await openDatabase(`sqlite:${path.join(dataDir, 'postern.db')}`);
    try {
      await migrateToLatest(db);
      const box = new SecretBox(key);
      await ensureKeyCheck(db, box);
      ids = await seed(db, box);
      // Written as an earlier release left it: the command's start upgrades it before rotating.
      await rewriteAsV1(db, key);
    } finally {
      await db.close();
    }
  });

  /** Opens the data directory's database with the key file's key and checks every secret. */
  async function expectEverySecretOpensWith(keyHex: string): Promise<void> {
    const db = await openDatabase(`sqlite:${path.join(dataDir, 'postern.db')}`);
    try {
      const box = new SecretBox(Buffer.from(keyHex, 'hex'));
      expect(await ensureKeyCheck(db, box)).toBe('verified');
      expect(await verifySealedColumns(db, box)).toBe(12);
      expect(await openThroughStore(db, box, ids, 0)).toEqual(expectedSecrets(0));
      expect(await openThroughStore(db, box, ids, 1)).toEqual(expectedSecrets(1));
    } finally {
      await db.close();
    }
  }

  it('re-encrypts, verifies every value with the new key, then removes the old key file', async () => {
    const oldKey = fs.readFileSync(keyFile, 'utf8').trim();
    const result = await runCliAsync(['secrets', 'rotate'], { POSTERN_DATA_DIR: dataDir });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Re-encrypted 12 secret(s)');
    expect(result.stdout).toContain('Verified: all 12 stored secret(s) open with the new key.');
    expect(result.stdout).toContain(`The new key is in ${keyFile}; the previous key file was removed.`);

    const newKey = fs.readFileSync(keyFile, 'utf8').trim();
    expect(newKey).toMatch(/^[0-9a-f]{64}$/);
    expect(newKey).not.toBe(oldKey);
    expect(fs.statSync(keyFile).mode & 0o077).toBe(0);
    expect(fs.readdirSync(dataDir).filter((name) => name.startsWith('secret.key'))).toEqual(['secret.key']);
    expect(dataDirBytes(dataDir).includes(Buffer.from(oldKey))).toBe(false);
    await expectEverySecretOpensWith(newKey);
  });

  it('keeps the old key as <file>.<keyId>.old with --keep-old-key, and says where', async () => {
    const oldKey = fs.readFileSync(keyFile, 'utf8').trim();
    const backup = `${keyFile}.${keyIdOf(Buffer.from(oldKey, 'hex'))}.old`;
    const result = await runCliAsync(['secrets', 'rotate', '--keep-old-key'], { POSTERN_DATA_DIR: dataDir });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Verified: all 12 stored secret(s) open with the new key.');
    expect(result.stdout).toContain(`the previous key was kept as ${backup}`);

    expect(fs.readFileSync(backup, 'utf8').trim()).toBe(oldKey);
    expect(fs.statSync(backup).mode & 0o077).toBe(0);
    const newKey = fs.readFileSync(keyFile, 'utf8').trim();
    expect(newKey).not.toBe(oldKey);
    await expectEverySecretOpensWith(newKey);
  });

  it('with POSTERN_SECRET_KEY, verifies and prints the new key, and writes no key file', async () => {
    const envKey = fs.readFileSync(keyFile, 'utf8').trim();
    const before = fs
      .readdirSync(dataDir)
      .filter((name) => name.startsWith('secret.key'))
      .sort();
    const result = await runCliAsync(['secrets', 'rotate'], { POSTERN_DATA_DIR: dataDir, POSTERN_SECRET_KEY: envKey });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Verified: all 12 stored secret(s) open with the new key.');
    const printed = /^([0-9a-f]{64})$/m.exec(result.stdout)?.[1];
    if (printed === undefined) throw new Error(`no key printed:\n${result.stdout}`);
    expect(printed).not.toBe(envKey);
    expect(
      fs
        .readdirSync(dataDir)
        .filter((name) => name.startsWith('secret.key'))
        .sort(),
    ).toEqual(before);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(envKey);
    await expectEverySecretOpensWith(printed);
  });
});

describe('a rotation interrupted after its commit', { timeout: 120_000 }, () => {
  it('is finished by the next command: the new key moves into place, the old one is kept and the log says where', async () => {
    const dataDir = tempDir();
    const keyFile = path.join(dataDir, 'secret.key');
    const oldKey = crypto.randomBytes(32);
    const newKey = crypto.randomBytes(32);
    fs.writeFileSync(keyFile, `${oldKey.toString('hex')}\n`, { mode: 0o600 });
    const dbFile = path.join(dataDir, 'postern.db');
    const db = await openDatabase(`sqlite:${dbFile}`);
    let ids: Seeded;
    try {
      await migrateToLatest(db);
      await ensureKeyCheck(db, new SecretBox(oldKey));
      ids = await seed(db, new SecretBox(oldKey));
      // What `secrets rotate` had done when the process died: the new key pending, the database committed.
      fs.writeFileSync(`${keyFile}.new`, `${newKey.toString('hex')}\n`, { mode: 0o600 });
      await rotateSecretKey(db, new SecretBox(oldKey), new SecretBox(newKey));
    } finally {
      await db.close();
    }

    const result = await runCliAsync(['migrate'], { POSTERN_DATA_DIR: dataDir });
    expect(result.status, result.stderr).toBe(0);
    const keptAs = `${keyFile}.${keyIdOf(oldKey)}.old`;
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(newKey.toString('hex'));
    expect(fs.readFileSync(keptAs, 'utf8').trim()).toBe(oldKey.toString('hex'));
    expect(fs.existsSync(`${keyFile}.new`)).toBe(false);
    const logs = fs
      .readdirSync(path.join(dataDir, 'logs'))
      .map((name) => fs.readFileSync(path.join(dataDir, 'logs', name), 'utf8'))
      .join('\n');
    expect(logs).toContain('finished an interrupted key rotation');
    expect(logs).toContain(keptAs);

    const reopened = await openDatabase(`sqlite:${dbFile}`);
    try {
      const box = new SecretBox(newKey);
      expect(await verifySealedColumns(reopened, box)).toBe(12);
      expect(await openThroughStore(reopened, box, ids, 1)).toEqual(expectedSecrets(1));
    } finally {
      await reopened.close();
    }
  });
});
