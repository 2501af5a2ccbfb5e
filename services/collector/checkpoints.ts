import fs from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from '../common/durable-file.ts';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';

/** Where reading a file resumes: identity (device, inode, first-bytes fingerprint) and offset. */
export interface FileCheckpoint {
  path: string;
  dev: number;
  ino: number;
  offset: number;
  fp: string;
  fp_len: number;
  updated_at: string;
}

export interface SourceCheckpoint {
  version: 1;
  files: Record<string, FileCheckpoint>;
  /** Truncated generations whose copy (copytruncate) may still appear. */
  orphans?: Array<{ path: string; fp: string; fp_len: number; offset: number }>;
  /** journald: the cursor of the last acknowledged entry. */
  cursor?: string;
}

/** One JSON file per source, replaced atomically and durably (`writeFileDurably`). */
export class CheckpointStore {
  private readonly file: string;

  constructor(dir: string, source: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `${source}.json`);
  }

  load(): SourceCheckpoint {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, files: {} };
      throw err;
    }
    const data = JSON.parse(text) as SourceCheckpoint;
    if (data.version !== 1 || typeof data.files !== 'object') throw new Error(`unknown checkpoint format in ${this.file}`);
    return data;
  }

  save(data: SourceCheckpoint): void {
    writeFileDurably(this.file, JSON.stringify(data));
  }

}

/**
 * Coalesces checkpoint writes: however many acknowledgements arrive in one burst, `save` runs
 * once, on the next turn of the event loop. A failed write is reported, and reading goes on.
 */
export function coalescedSave(save: () => void, metrics: Metrics, log: Logger): (() => void) & { flush: () => void } {
  let scheduled = false;
  const run = () => {
    if (!scheduled) return;
    scheduled = false;
    try {
      save();
    } catch (err) {
      // Reading goes on; a restart would repeat what was sent since the last good checkpoint.
      metrics.failed.inc({ component: 'checkpoint', kind: 'write' });
      log.error({ err: errorMessage(err) }, 'cannot write checkpoint; a restart would resend records');
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  };
  /** Writes a scheduled checkpoint now (the sink calls it before sending the next batch). */
  schedule.flush = run;
  return schedule;
}
