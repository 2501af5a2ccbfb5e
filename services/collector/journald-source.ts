import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import readline from 'node:readline';
import type { CollectorConfig, JournaldSourceConfig } from '../../schemas/config.ts';
import type { RawRecordInput } from '../../schemas/raw.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';
import { CheckpointStore, coalescedSave } from './checkpoints.ts';
import type { Sink } from '../common/sink.ts';

/**
 * Follows the journal with `journalctl -o json --follow`, resuming after the cursor of the last
 * entry Kafka acknowledged; restarts journalctl with backoff when it exits.
 */
export class JournaldSource {
  private readonly store: CheckpointStore;
  private ackedCursor?: string;
  /** Cursor of the last entry handed to the sink: where a restarted journalctl continues. */
  private pushedCursor?: string;
  private child?: ChildProcess;
  private stopped = false;
  private backoff: number;
  private restartTimer?: NodeJS.Timeout;
  private readonly log: Logger;
  private scheduleSave!: (() => void) & { flush: () => void };
  private exited?: Promise<void>;
  private readonly m;

  constructor(
    private readonly src: JournaldSourceConfig,
    private readonly cfg: CollectorConfig,
    private readonly host: string,
    private readonly sink: Sink,
    metrics: Metrics,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'journald_source', source: src.name });
    this.store = new CheckpointStore(cfg.checkpoint_dir, src.name);
    this.scheduleSave = coalescedSave(() => this.saveCheckpoint(), metrics, this.log);
    this.ackedCursor = this.store.load().cursor;
    this.pushedCursor = this.ackedCursor;
    this.backoff = cfg.journal_restart_backoff_ms;
    this.m = {
      metrics,
      entries: metrics.counter('podwatch_collector_journal_entries_total', 'Journal entries read', ['source']),
      restarts: metrics.counter('podwatch_collector_journalctl_restarts_total', 'Times journalctl exited and was restarted', ['source']),
    };
  }

  args(): string[] {
    const a = ['-o', 'json', '--follow', '--no-pager', '--quiet'];
    if (this.src.directory) a.push('--directory', this.src.directory);
    if (this.src.file) a.push('--file', this.src.file);
    if (this.pushedCursor) a.push('--after-cursor', this.pushedCursor);
    else if ((this.src.start_at ?? this.cfg.start_at) === 'end') a.push('--lines', '0');
    this.src.matches.forEach((m, i) => { if (i > 0) a.push('+'); a.push(m); });
    return a;
  }

  start(): void {
    this.spawn();
    this.log.info({ matches: this.src.matches, directory: this.src.directory, file: this.src.file, cursor: this.ackedCursor ? 'resumed' : 'none' }, 'journald source started');
  }

  private spawn(): void {
    const child = spawn(this.src.journalctl, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    const rl = readline.createInterface({ input: child.stdout!, crlfDelay: Infinity });
    let gotEntry = false;
    rl.on('line', (line) => {
      gotEntry = true;
      this.handle(line);
      if (!this.sink.hasCapacity) {
        child.stdout!.pause();
        void this.sink.waitForCapacity().then(() => child.stdout!.resume());
      }
    });
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        this.log.warn({ err: err.message, journalctl: this.src.journalctl }, 'cannot run journalctl');
      });
      child.on('close', (code, signal) => {
        resolve();
        if (this.stopped) return;
        this.m.restarts.inc({ source: this.src.name });
        if (gotEntry) this.backoff = this.cfg.journal_restart_backoff_ms;
        this.log.warn({ code, signal, stderr: stderr.trim().slice(-500), retryInMs: this.backoff }, 'journalctl exited; restarting');
        this.restartTimer = setTimeout(() => this.spawn(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 30_000);
      });
    });
  }

  private handle(line: string): void {
    this.m.entries.inc({ source: this.src.name });
    this.m.metrics.received.inc({ component: 'journald_source' });
    let entry: Record<string, unknown> | undefined;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      entry = undefined;
    }
    const cursor = typeof entry?.__CURSOR === 'string' ? entry.__CURSOR : undefined;
    const id = createHash('sha256').update(`${this.host}\0${this.src.name}\0${cursor ?? line}`).digest('hex').slice(0, 32);
    const unit = entry && (entry._SYSTEMD_UNIT ?? entry.SYSLOG_IDENTIFIER);
    const record: RawRecordInput = {
      id,
      source: { type: 'journald', name: this.src.name, format: this.src.format },
      host: this.host,
      ...(typeof unit === 'string' ? { unit } : {}),
      position: cursor ? { cursor } : {},
      ...(entry ? { journal: entry } : { line }),
      collected_at: new Date().toISOString(),
    };
    if (cursor) this.pushedCursor = cursor;
    this.sink.push(`${this.host}/${this.src.name}`, JSON.stringify(record), () => {
      if (cursor) { this.ackedCursor = cursor; this.scheduleSave(); }
    });
  }

  /** Writes the checkpoint now if acknowledgements are waiting to be recorded. */
  flushCheckpoint(): void {
    this.scheduleSave.flush();
  }

  saveCheckpoint(): void {
    if (this.ackedCursor) this.store.save({ version: 1, files: {}, cursor: this.ackedCursor });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }

  close(): void {
    this.saveCheckpoint();
  }
}
