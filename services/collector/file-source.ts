import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { CollectorConfig, FileSourceConfig } from '../../schemas/config.ts';
import type { RawRecordInput } from '../../schemas/raw.ts';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';
import { CheckpointStore, coalescedSave, type FileCheckpoint, type SourceCheckpoint } from './checkpoints.ts';
import type { Sink } from '../common/sink.ts';
import { LineSplitter, type Line } from './line-splitter.ts';
import { expandPattern } from './path-pattern.ts';

/** Bytes at the head of a file that identify it across renames and tell inode reuse apart. */
const FP_BYTES = 1024;
const CHUNK = 64 * 1024;
/** Bytes one file may read per tick, so one busy file cannot starve the others. */
const TICK_BUDGET = 4 * 1024 * 1024;

/** The acknowledged position of one generation of one file (a truncation starts a new one). */
interface Position { acked: number; fp: string; fpLen: number }

interface Reader {
  key: string;
  path: string;
  fd: number;
  dev: number;
  ino: number;
  readOffset: number;
  pos: Position;
  splitter: LineSplitter;
  /** When the pending partial line last grew. */
  partialSince?: number;
  lastGrowth: number;
  /** Set once the file is no longer at any watched path (renamed away or deleted). */
  goneSince?: number;
  deleted: boolean;
  /** A copy of a live file (copytruncate): read only once the original is truncated. */
  copyOf?: string;
  copySince?: number;
}

/** A truncated or vanished generation whose copy may still turn up (copytruncate). */
interface Orphan { path: string; pos: Position; readOffset: number; at: number }

function prefixHash(fd: number, len: number): string {
  const buf = Buffer.alloc(len);
  const n = fs.readSync(fd, buf, 0, len, 0);
  return createHash('sha256').update(buf.subarray(0, n)).digest('hex');
}

/**
 * Tails the files that match a source's patterns into the Kafka sink, with a checkpoint per file
 * (device + inode + first-bytes fingerprint + acknowledged offset). Handles rename-and-create,
 * copytruncate, truncation in place, inode reuse, deletion before the end, partial last lines.
 */
export class FileSource {
  private readonly readers = new Map<string, Reader>();
  private orphans: Orphan[] = [];
  private checkpoint: SourceCheckpoint;
  private readonly store: CheckpointStore;
  private readonly log: Logger;
  private readonly warnedPaths = new Set<string>();
  private lastScan = 0;
  private initialScanDone = false;
  private scheduleSave!: (() => void) & { flush: () => void };
  private lastSave = Date.now();
  private timer?: NodeJS.Timeout;
  private lagTimer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  private readonly buf = Buffer.alloc(CHUNK);
  private readonly m;

  constructor(
    private readonly src: FileSourceConfig,
    private readonly cfg: CollectorConfig,
    private readonly host: string,
    private readonly sink: Sink,
    metrics: Metrics,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'file_source', source: src.name });
    this.store = new CheckpointStore(cfg.checkpoint_dir, src.name);
    this.scheduleSave = coalescedSave(() => this.saveCheckpoint(), metrics, this.log);
    this.checkpoint = this.store.load();
    this.orphans = (this.checkpoint.orphans ?? []).map((o) => ({
      path: o.path, pos: { acked: o.offset, fp: o.fp, fpLen: o.fp_len }, readOffset: o.offset, at: Date.now(),
    }));
    const l = ['source'];
    this.m = {
      metrics,
      lines: metrics.counter('podwatch_collector_lines_total', 'Lines read from files', l),
      bytes: metrics.counter('podwatch_collector_bytes_total', 'Bytes read from files', l),
      truncatedLines: metrics.counter('podwatch_collector_truncated_lines_total', 'Lines longer than max_line_bytes, shipped truncated', l),
      binaryLines: metrics.counter('podwatch_collector_binary_lines_total', 'Lines that were not UTF-8, shipped as base64', l),
      rotations: metrics.counter('podwatch_collector_file_events_total', 'Rotations, truncations, deletions and inode reuse seen', ['source', 'kind']),
      openErrors: metrics.counter('podwatch_collector_open_errors_total', 'Files that matched but could not be opened', ['source', 'code']),
      lag: metrics.gauge('podwatch_collector_lag_bytes', 'Bytes written to a file but not yet acknowledged by Kafka', ['source', 'path']),
      checkpointAge: metrics.gauge('podwatch_collector_checkpoint_age_seconds', 'Seconds since the checkpoint was last written', l),
      open: metrics.gauge('podwatch_collector_open_files', 'Files being tailed', l),
    };
  }

  async start(): Promise<void> {
    this.tickNow();
    await this.ticking;
    this.initialScanDone = true;
    // Reading pauses while the sink is full (Kafka away); the backlog waiting in the files keeps
    // being reported, so an outage shows as growing lag rather than a frozen gauge.
    this.lagTimer = setInterval(() => this.refreshLag(), 1_000).unref();
    this.log.info({ patterns: this.src.paths, files: [...this.readers.values()].map((r) => ({ path: r.path, offset: r.readOffset })) }, 'file source started');
  }

  /** Stops reading; the caller flushes the sink and then calls `saveCheckpoint`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.lagTimer);
    await this.ticking;
  }

  close(): void {
    this.saveCheckpoint();
    for (const r of this.readers.values()) fs.closeSync(r.fd);
    this.readers.clear();
  }

  private tickNow(): void {
    this.ticking = this.tick().catch((err) => {
      this.m.metrics.failed.inc({ component: 'file_source', kind: 'tick' });
      this.log.warn({ err: errorMessage(err) }, 'file source tick failed; retrying');
    }).finally(() => {
      if (!this.stopped) this.timer = setTimeout(() => this.tickNow(), this.cfg.poll_interval_ms);
    });
  }

  /** One poll: rescan patterns when due, then read every file as far as the sink allows. */
  private async tick(): Promise<void> {
    const now = Date.now();
    if (!this.initialScanDone || now - this.lastScan >= this.cfg.glob_interval_ms) {
      this.scan(now);
      this.lastScan = now;
    }
    for (const r of [...this.readers.values()]) {
      if (this.stopped) break;
      await this.sink.waitForCapacity();
      this.readFile(r, now);
    }
    this.m.checkpointAge.set({ source: this.src.name }, (Date.now() - this.lastSave) / 1000);
    this.m.open.set({ source: this.src.name }, this.readers.size);
  }

  private scan(now: number): void {
    const seen = new Set<string>();
    const fresh: Array<{ p: string; st: fs.Stats; key: string }> = [];
    for (const pattern of this.src.paths) {
      for (const p of expandPattern(pattern)) {
        let st: fs.Stats;
        try {
          st = fs.statSync(p);
        } catch {
          continue;
        }
        if (!st.isFile()) continue;
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const existing = this.readers.get(key);
        if (existing) {
          existing.path = p;
          existing.goneSince = undefined;
        } else {
          fresh.push({ p, st, key });
        }
      }
    }
    // Files with a checkpoint first: one found truncated leaves an orphan that its copy resumes from.
    fresh.sort((a, b) => Number(b.key in this.checkpoint.files) - Number(a.key in this.checkpoint.files));
    for (const f of fresh) this.open(f.p, f.st, f.key);
    for (const r of this.readers.values()) {
      if (!seen.has(r.key) && r.goneSince === undefined) {
        r.goneSince = now;
        this.m.rotations.inc({ source: this.src.name, kind: 'renamed_or_deleted' });
      }
    }
    // Orphans wait a while for their copy to appear, then are forgotten.
    this.orphans = this.orphans.filter((o) => now - o.at < 10 * 60_000);
  }

  private open(p: string, st: fs.Stats, key: string): void {
    let fd: number;
    try {
      fd = fs.openSync(p, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      this.m.openErrors.inc({ source: this.src.name, code });
      if (!this.warnedPaths.has(p)) {
        this.warnedPaths.add(p);
        this.log.warn({ path: p, code }, 'cannot open log file; will retry at every scan');
      }
      return;
    }
    if (this.warnedPaths.delete(p)) this.log.info({ path: p }, 'log file readable again');
    const size = fs.fstatSync(fd).size;
    const fpLen = Math.min(size, FP_BYTES);
    const fp = prefixHash(fd, fpLen);
    const reader: Reader = {
      key, path: p, fd, dev: st.dev, ino: st.ino, readOffset: 0,
      pos: { acked: 0, fp, fpLen }, splitter: new LineSplitter(this.cfg.max_line_bytes, 0),
      lastGrowth: Date.now(), deleted: false,
    };
    const matches = (c: { fp: string; fp_len?: number; fpLen?: number }) => {
      const len = c.fp_len ?? c.fpLen ?? 0;
      return len <= size && (len === fpLen ? c.fp === fp : prefixHash(fd, len) === c.fp);
    };
    let start: number;
    const cp = this.checkpoint.files[key];
    const orphanIdx = this.orphans.findIndex((o) => o.pos.fpLen > 0 && matches(o.pos));
    const original = [...this.readers.values()].find((r) => r.pos.fpLen > 0 && r.pos.fpLen <= size && matches(r.pos));
    if (cp && matches(cp) && cp.offset <= size) {
      start = cp.offset;
    } else if (orphanIdx !== -1) {
      // The copy of a file that was truncated (copytruncate): continue where the original stopped.
      const o = this.orphans.splice(orphanIdx, 1)[0]!;
      start = Math.min(o.readOffset, size);
      this.m.rotations.inc({ source: this.src.name, kind: 'copytruncate_copy' });
    } else if (original) {
      // A copy of a live file: its content is the original's; wait to see whether the original is truncated.
      start = 0;
      reader.copyOf = original.key;
      reader.copySince = Date.now();
    } else {
      if (cp) {
        // Truncated while we were not running, or the inode now holds another file.
        this.orphans.push({ path: cp.path, pos: { acked: cp.offset, fp: cp.fp, fpLen: cp.fp_len }, readOffset: cp.offset, at: Date.now() });
        this.m.rotations.inc({ source: this.src.name, kind: 'inode_reused_or_truncated' });
        this.log.info({ path: p }, 'file changed since its checkpoint (truncated or inode reused); reading it from the beginning');
      }
      const startAt = this.src.start_at ?? this.cfg.start_at;
      start = !this.initialScanDone && !cp && startAt === 'end' ? size : 0;
    }
    reader.readOffset = start;
    reader.pos.acked = start;
    reader.splitter = new LineSplitter(this.cfg.max_line_bytes, start);
    this.readers.set(key, reader);
    this.log.debug({ path: p, start, size, copyOf: reader.copyOf }, 'tailing file');
    this.scheduleSave();
  }

  private readFile(r: Reader, now: number): void {
    if (r.copyOf) {
      const original = this.readers.get(r.copyOf);
      if (original && now - (r.copySince ?? now) < 10_000) return;
      // The original was not truncated: a plain copy of content the original delivers. Skip it.
      r.copyOf = undefined;
      const size = fs.fstatSync(r.fd).size;
      r.readOffset = size;
      r.pos.acked = size;
      r.splitter = new LineSplitter(this.cfg.max_line_bytes, size);
    }
    const st = fs.fstatSync(r.fd);
    if (st.nlink === 0 && !r.deleted) {
      r.deleted = true;
      this.m.rotations.inc({ source: this.src.name, kind: 'deleted' });
      if (st.size > r.readOffset) this.log.warn({ path: r.path, unread: st.size - r.readOffset }, 'file deleted before it was fully read; finishing from the open descriptor');
    }
    if (this.truncated(r, st.size)) return;
    let budget = TICK_BUDGET;
    let grew = false;
    while (budget > 0 && this.sink.hasCapacity) {
      const n = fs.readSync(r.fd, this.buf, 0, CHUNK, r.readOffset);
      if (n === 0) break;
      grew = true;
      const chunk = this.buf.subarray(0, n);
      const at = r.readOffset;
      r.readOffset += n;
      budget -= n;
      this.m.bytes.inc({ source: this.src.name }, n);
      for (const line of r.splitter.push(chunk, at)) this.emit(r, line);
      if (r.pos.fpLen < FP_BYTES && r.readOffset > r.pos.fpLen) this.refreshFingerprint(r);
    }
    if (grew) { r.lastGrowth = now; r.partialSince = r.splitter.pendingBytes > 0 ? now : undefined; }
    const atEof = r.readOffset >= fs.fstatSync(r.fd).size;
    const finished = atEof && (r.deleted || (r.goneSince !== undefined && now - r.lastGrowth > this.cfg.partial_line_timeout_ms));
    if (r.splitter.pendingBytes > 0 && atEof && (finished || now - (r.partialSince ?? now) >= this.cfg.partial_line_timeout_ms)) {
      const line = r.splitter.flushPartial(r.readOffset);
      if (line) this.emit(r, line);
      r.partialSince = undefined;
    }
    this.m.lag.set({ source: this.src.name, path: r.path }, Math.max(0, st.size - r.pos.acked));
    if (finished && r.pos.acked >= r.readOffset) this.retire(r);
  }

  private refreshLag(): void {
    for (const r of this.readers.values()) this.m.lag.set({ source: this.src.name, path: r.path }, Math.max(0, fs.fstatSync(r.fd).size - r.pos.acked));
  }

  /** Detects truncation (size below what was read, or different first bytes) and starts over. */
  private truncated(r: Reader, size: number): boolean {
    const shrunk = size < r.readOffset;
    const rewritten = !shrunk && r.pos.fpLen > 0 && prefixHash(r.fd, r.pos.fpLen) !== r.pos.fp;
    if (!shrunk && !rewritten) return false;
    this.m.rotations.inc({ source: this.src.name, kind: 'truncated' });
    const copy = [...this.readers.values()].find((c) => c.copyOf === r.key);
    if (copy) {
      // copytruncate: what the original had beyond our read offset now lives only in the copy.
      copy.copyOf = undefined;
      copy.readOffset = Math.min(r.readOffset, fs.fstatSync(copy.fd).size);
      copy.pos.acked = copy.readOffset;
      copy.splitter = new LineSplitter(this.cfg.max_line_bytes, copy.readOffset);
    } else {
      this.orphans.push({ path: r.path, pos: r.pos, readOffset: r.readOffset, at: Date.now() });
    }
    const fpLen = Math.min(size, FP_BYTES);
    r.pos = { acked: 0, fp: prefixHash(r.fd, fpLen), fpLen };
    r.readOffset = 0;
    r.splitter = new LineSplitter(this.cfg.max_line_bytes, 0);
    r.partialSince = undefined;
    this.log.info({ path: r.path, copy: copy?.path }, 'file truncated; reading it from the beginning');
    this.scheduleSave();
    return true;
  }

  private refreshFingerprint(r: Reader): void {
    const len = Math.min(r.readOffset, FP_BYTES);
    r.pos.fp = prefixHash(r.fd, len);
    r.pos.fpLen = len;
  }

  private retire(r: Reader): void {
    fs.closeSync(r.fd);
    this.readers.delete(r.key);
    this.m.lag.remove({ source: this.src.name, path: r.path });
    // A deleted file never comes back; a renamed-away one keeps its checkpoint in case it does.
    if (r.deleted) delete this.checkpoint.files[r.key];
    this.log.debug({ path: r.path, deleted: r.deleted }, 'finished file');
    this.scheduleSave();
  }

  private emit(r: Reader, line: Line): void {
    this.m.lines.inc({ source: this.src.name });
    this.m.metrics.received.inc({ component: 'file_source' });
    if (line.length === 0) {
      this.m.metrics.dropped.inc({ component: 'file_source', reason: 'empty_line' });
      return;
    }
    if (line.truncated) this.m.truncatedLines.inc({ source: this.src.name });
    if (line.encoding === 'base64') this.m.binaryLines.inc({ source: this.src.name });
    const id = createHash('sha256')
      .update(`${this.host}\0${this.src.name}\0${r.dev}:${r.ino}\0${line.start}\0`)
      .update(line.text)
      .digest('hex')
      .slice(0, 32);
    const record: RawRecordInput = {
      id,
      source: { type: 'file', name: this.src.name, format: this.src.format },
      host: this.host,
      path: r.path,
      position: { dev: r.dev, inode: r.ino, offset: line.start },
      line: line.text,
      encoding: line.encoding,
      truncated: line.truncated,
      ...(line.truncated ? { length: line.length } : {}),
      collected_at: new Date().toISOString(),
    };
    const pos = r.pos;
    const end = line.end;
    this.sink.push(`${this.host}/${this.src.name}/${r.path}`, JSON.stringify(record), () => {
      if (end > pos.acked) pos.acked = end;
      this.scheduleSave();
    });
  }

  /** Writes the checkpoint now if acknowledgements are waiting to be recorded. */
  flushCheckpoint(): void {
    this.scheduleSave.flush();
  }

  saveCheckpoint(): void {
    const now = new Date().toISOString();
    const files: Record<string, FileCheckpoint> = { ...this.checkpoint.files };
    for (const r of this.readers.values()) {
      if (r.copyOf) continue;
      files[r.key] = { path: r.path, dev: r.dev, ino: r.ino, offset: r.pos.acked, fp: r.pos.fp, fp_len: r.pos.fpLen, updated_at: now };
    }
    // Forget files not touched for a week.
    const cutoff = Date.now() - 7 * 86_400_000;
    for (const [k, v] of Object.entries(files)) if (Date.parse(v.updated_at) < cutoff) delete files[k];
    this.checkpoint = { version: 1, files, orphans: this.orphans.map((o) => ({ path: o.path, fp: o.pos.fp, fp_len: o.pos.fpLen, offset: o.pos.acked })) } as SourceCheckpoint;
    this.store.save(this.checkpoint);
    this.lastSave = Date.now();
  }
}
