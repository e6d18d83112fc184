/**
 * vitest global setup: gives the run a temporary directory of its own (`TMPDIR`, inherited by the
 * test workers, so every suite's `postern-*` data and log directories land there), and when the
 * whole run is over scans every Postern log file in it for the seed's secrets and for the shapes
 * of credentials (JWTs, XOAUTH2 strings, API tokens, webhook secrets, refresh tokens, bearer
 * values, token fields). A leak fails the run, naming the file, the line and what leaked.
 *
 * no-secrets-in-logs.test.ts checks one full flow exhaustively, with every token it handled; this
 * checks what all the other suites logged at debug level. A run directory of its own keeps the
 * scan to this run's files even when other runs share the machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeLeaks, findLogFiles, scanLogFiles, seedSecrets } from './log-scan.js';

/** Points the workers' temporary directory at a new one and returns the teardown that scans it. */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-run-'));
  process.env.TMPDIR = runDir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const files = findLogFiles(runDir, undefined, 4);
    const leaks = scanLogFiles(files, seedSecrets());
    if (process.env.POSTERN_TEST_TIMING === '1')
      console.info(`log scan: ${files.length} log files in ${runDir}, ${leaks.length} leaks`);
    if (leaks.length > 0) {
      // vitest reports an error thrown here but still exits 0: set the exit code as well.
      process.exitCode = 1;
      throw new Error(
        `Secrets were found in ${new Set(leaks.map((leak) => leak.file)).size} log file(s) written by this run:\n${describeLeaks(leaks)}`,
      );
    }
  };
}
