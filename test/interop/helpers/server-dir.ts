/**
 * Where a throwaway server lives: a temporary directory that Dovecot's and Postfix's unprivileged
 * processes may walk into, holding a private CA and a certificate for `127.0.0.1` and `localhost`
 * generated for this run (the emulator's generator — a CA nobody else trusts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateTls, type TlsMaterial } from '../../../emulator/tls/certificates.js';

export interface ServerDir {
  readonly dir: string;
  readonly tls: TlsMaterial;
}

/** Creates the directory (`<tmp>/<prefix>XXXXXX`) and its certificates; the caller removes it. */
export async function createServerDir(prefix: string): Promise<ServerDir> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    fs.chmodSync(dir, 0o755);
    const tls = await loadOrCreateTls(path.join(dir, 'tls'), { hostnames: ['localhost'], ips: ['127.0.0.1'] });
    // The servers' unprivileged processes read the key.
    fs.chmodSync(tls.keyFile, 0o644);
    return { dir, tls };
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
