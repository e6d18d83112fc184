/** One check of the doctor: what was looked at, what was found, and what to do. */
export type CheckResult = 'ok' | 'warning' | 'failed' | 'skipped';

export interface Check {
  /** Stable id, e.g. `provider.secret`, `account.imap`. */
  readonly id: string;
  /** What was checked, in a few words. */
  readonly title: string;
  readonly result: CheckResult;
  /** What was observed: the facts behind the result. */
  readonly evidence: string;
  /** What to do, when the result is not ok. */
  readonly remedy?: string;
  /** The catalogue code of the failure, when there is one. */
  readonly code?: string;
}

export interface DiagnosisSection {
  readonly subject: string;
  readonly checks: Check[];
}

export interface Diagnosis {
  readonly at: string;
  readonly ok: boolean;
  readonly sections: DiagnosisSection[];
}

export function ok(id: string, title: string, evidence: string): Check {
  return { id, title, result: 'ok', evidence };
}

export function warning(id: string, title: string, evidence: string, remedy: string): Check {
  return { id, title, result: 'warning', evidence, remedy };
}

export function failed(id: string, title: string, evidence: string, remedy: string | undefined, code?: string): Check {
  return {
    id,
    title,
    result: 'failed',
    evidence,
    ...(remedy === undefined ? {} : { remedy }),
    ...(code === undefined ? {} : { code }),
  };
}

export function skipped(id: string, title: string, evidence: string): Check {
  return { id, title, result: 'skipped', evidence };
}
