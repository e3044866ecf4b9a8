// A dataset row that cannot be read either stops the read (the default: a user's file should be fixed, not
// silently shrunk) or is collected, with its file and line, for the caller to report.

import { FedtlError } from '@fedtl/util';

export type BadRowPolicy = 'throw' | 'skip';

export interface BadRow {
  file: string;
  /** 1-based line where the row starts. */
  line: number;
  reason: string;
}

export class BadRowCollector {
  readonly badRows: BadRow[] = [];

  constructor(
    private readonly file: string,
    private readonly policy: BadRowPolicy,
  ) {}

  report(line: number, reason: string): void {
    if (this.policy === 'throw') {
      throw new FedtlError('FEDTL_ERR_BAD_DATA', `${this.file}:${line}: ${reason}`, { file: this.file, line, reason });
    }
    this.badRows.push({ file: this.file, line, reason });
  }
}
