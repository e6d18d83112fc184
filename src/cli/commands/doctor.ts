import type { Command } from 'commander';
import type { Check, Diagnosis } from '../../services/doctor/check.js';
import { openRuntime } from '../runtime.js';
import { findAccount } from './accounts.js';

const MARK: Record<Check['result'], string> = { ok: 'ok  ', warning: 'WARN', failed: 'FAIL', skipped: 'skip' };
const COLOUR: Record<Check['result'], string> = {
  ok: '\u001b[32m',
  warning: '\u001b[33m',
  failed: '\u001b[31m',
  skipped: '\u001b[90m',
};

/** The doctor's report for a terminal: one line per check, evidence and remedy indented. */
function formatDiagnosis(diagnosis: Diagnosis, colour: boolean): string[] {
  const paint = (result: Check['result'], text: string): string =>
    colour ? `${COLOUR[result]}${text}\u001b[0m` : text;
  const lines: string[] = [];
  for (const section of diagnosis.sections) {
    lines.push(section.subject);
    for (const check of section.checks) {
      lines.push(`  ${paint(check.result, MARK[check.result])}  ${check.title}`);
      lines.push(`        ${check.evidence}`);
      if (check.remedy !== undefined && check.result !== 'ok') lines.push(`        What to do: ${check.remedy}`);
    }
    lines.push('');
  }
  const failed = diagnosis.sections.flatMap((s) => s.checks).filter((c) => c.result === 'failed').length;
  lines.push(failed === 0 ? 'No problem found.' : `${failed} check(s) failed.`);
  return lines;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('Run the troubleshooting checks (secret, sign-ins, token permissions, IMAP, SMTP) and say what to do')
    .option('--account <key>', 'one email account (with its provider)')
    .option('--provider <name>', 'one Cloud Provider (with its accounts)')
    .option('--send-test', "check a shared mailbox's Send As by submitting a test message to its delegate")
    .option('--json', 'print the result as JSON')
    .action(async (opts: { account?: string; provider?: string; sendTest?: boolean; json?: boolean }) => {
      const runtime = await openRuntime({ quiet: true });
      try {
        const { services } = runtime;
        const options = { sendTest: opts.sendTest === true };
        let diagnosis: Diagnosis;
        if (opts.account !== undefined) {
          diagnosis = await services.doctor.diagnose(
            { accountId: (await findAccount(services, opts.account)).account.id },
            options,
          );
        } else if (opts.provider !== undefined) {
          const ref = opts.provider;
          const view = /^\d+$/.test(ref)
            ? await services.providers.get(Number(ref))
            : (await services.providers.list()).find((v) => v.provider.name.toLowerCase() === ref.toLowerCase());
          if (view === undefined) throw new Error(`There is no Cloud Provider "${ref}".`);
          diagnosis = await services.doctor.diagnose({ providerId: view.provider.id }, options);
        } else {
          diagnosis = await services.doctor.diagnose({}, options);
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(diagnosis, null, 2)}\n`);
        else
          for (const line of formatDiagnosis(diagnosis, process.stdout.isTTY === true))
            process.stdout.write(`${line}\n`);
        if (!diagnosis.ok) process.exitCode = 1;
      } finally {
        await runtime.close();
      }
    });
}
