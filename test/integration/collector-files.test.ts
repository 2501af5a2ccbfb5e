import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { stringify } from 'yaml';
import type { RawRecord } from '../../schemas/raw.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from '../helpers/log.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stackConfig } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

const { logger } = memoryLogger('error');
let kafka: Kafka;
before(() => { kafka = createKafka(stackConfig().kafka, logger); });

/** A config file for a collector tailing `patterns`, with its own topics and checkpoints. */
function setup(name: string, source: { type: 'file'; paths: string[] }, collector: Record<string, unknown> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `podwatch-${name}-`));
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir);
  source = { ...source, paths: source.paths.map((p) => p.replace('LOGDIR', logDir)) };
  const cfg = stackConfig();
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({
    kafka: { brokers: cfg.kafka.brokers, topics: { ...cfg.kafka.topics } },
    log: { level: 'info' },
    collector: {
      checkpoint_dir: path.join(dir, 'checkpoints'), start_at: 'beginning', poll_interval_ms: 50, glob_interval_ms: 200,
      partial_line_timeout_ms: 1000, http: { port: 0 }, sources: [{ name, ...source }], ...collector,
    },
  }));
  return { dir, logDir, cfg, file };
}

function lines(from: number, to: number, tag = 'L'): string {
  let s = '';
  for (let i = from; i <= to; i++) s += `${tag}${i} ${'x'.repeat(40)}\n`;
  return s;
}

const seqOf = (r: RawRecord) => Number(/^L(\d+) /.exec(r.line ?? '')?.[1]);

/** Every sequence number from 1 to n exactly once. */
function assertExactlyOnce(records: RawRecord[], n: number) {
  const seqs = records.map(seqOf);
  const counts = new Map<number, number>();
  for (const s of seqs) counts.set(s, (counts.get(s) ?? 0) + 1);
  const missing = [];
  for (let i = 1; i <= n; i++) if (!counts.has(i)) missing.push(i);
  const dups = [...counts].filter(([, c]) => c > 1).map(([s]) => s);
  assert.deepEqual({ missing: missing.slice(0, 20), dups: dups.slice(0, 20), total: seqs.length }, { missing: [], dups: [], total: n });
}

/** Within one file (inode), lines arrive in the order they were written. */
function assertOrderedPerInode(records: RawRecord[]) {
  const last = new Map<string, number>();
  for (const r of records) {
    const k = `${r.position.dev}:${r.position.inode}`;
    const s = seqOf(r);
    assert.ok(s > (last.get(k) ?? 0), `line ${s} after ${last.get(k)} in inode ${k}`);
    last.set(k, s);
  }
}

let proc: Proc | undefined;
after(async () => { await proc?.stop('SIGKILL'); });

test('lines appended through rename-and-create, copytruncate and truncation arrive exactly once, in order', async () => {
  const { logDir, cfg, file } = setup('rotate', { type: 'file', paths: ['LOGDIR/access.log*'] });
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  const live = path.join(logDir, 'access.log');
  let fd = fs.openSync(live, 'a');
  fs.writeSync(fd, lines(1, 300));

  proc = spawnPodwatch(['run', 'collector', '--config', file]);
  await proc.waitForOutput(/collector started/);
  fs.writeSync(fd, lines(301, 500));
  await topic.waitForCount(500);

  // rename-and-create: the writer keeps its old descriptor for a moment (as nginx does until USR1).
  fs.renameSync(live, `${live}.1`);
  fs.writeSync(fd, lines(501, 520));
  fs.closeSync(fd);
  fd = fs.openSync(live, 'a');
  fs.writeSync(fd, lines(521, 1000));
  await topic.waitForCount(1000);

  // copytruncate: copy then truncate at once, before the collector had a chance to read the tail:
  // the copy must be read from where the original stopped, not from its start.
  fs.writeSync(fd, lines(1001, 1200));
  fs.copyFileSync(live, `${live}.2`);
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, lines(1201, 1500));
  await topic.waitForCount(1500);

  // truncation in place (no copy): lines after it are read from the start of the file.
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, lines(1501, 2000));
  fs.closeSync(fd);
  await topic.waitForCount(2000);
  await new Promise((r) => setTimeout(r, 1500));

  const records = topic.json<RawRecord>();
  assertExactlyOnce(records, 2000);
  assertOrderedPerInode(records);
  assert.equal(new Set(records.map((r) => r.id)).size, 2000, 'ids are unique per line');
  assert.equal(await proc.stop('SIGTERM'), 0, 'SIGTERM is a clean exit');
  proc = undefined;
  await topic.stop();
});

test('kill -9 mid-stream: after a restart no line is missing, duplicates are at most one batch', async () => {
  const { logDir, cfg, file } = setup('kill9', { type: 'file', paths: ['LOGDIR/app.log'] }, { batch_max_records: 200 });
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  const log = path.join(logDir, 'app.log');
  const total = 20_000;
  fs.writeFileSync(log, lines(1, total));

  proc = spawnPodwatch(['run', 'collector', '--config', file]);
  await waitUntil(() => topic.messages.length >= 3_000, 60_000, 'a part of the file in Kafka');
  await proc.stop('SIGKILL');
  const beforeRestart = topic.messages.length;
  assert.ok(beforeRestart < total, `killed too late: ${beforeRestart} of ${total} already sent`);

  proc = spawnPodwatch(['run', 'collector', '--config', file]);
  await waitUntil(() => new Set(topic.json<RawRecord>().map(seqOf)).size >= total, 60_000, 'every line after the restart');
  await new Promise((r) => setTimeout(r, 1000));
  const records = topic.json<RawRecord>();
  const unique = new Set(records.map(seqOf));
  assert.equal(unique.size, total);
  const duplicates = records.length - unique.size;
  assert.ok(duplicates <= 200, `duplicates ${duplicates} exceed one batch (200)`);
  // A duplicate is the same record: same id, so downstream stages can drop it.
  assert.equal(new Set(records.map((r) => r.id)).size, unique.size);
  await proc.stop();
  proc = undefined;
  await topic.stop();
});

test('a 10 MB line, invalid UTF-8, an empty line and a partial last line are handled, nothing crashes', async () => {
  const { logDir, cfg, file } = setup('edge', { type: 'file', paths: ['LOGDIR/edge.log'] }, { max_line_bytes: 4096 });
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  const log = path.join(logDir, 'edge.log');
  const binary = Buffer.from([0x4c, 0x32, 0x20, 0xff, 0xfe, 0x80]);
  fs.writeFileSync(log, Buffer.concat([
    Buffer.from(`L1 ${'y'.repeat(10 * 1024 * 1024)}\n`), binary, Buffer.from('\n\nL3 after the empty line\nL4 partial without newline'),
  ]));
  proc = spawnPodwatch(['run', 'collector', '--config', file]);
  await topic.waitForCount(4, 30_000);
  const [big, bin, third, partial] = topic.json<RawRecord>();
  assert.equal(big!.truncated, true);
  assert.equal(big!.length, 10 * 1024 * 1024 + 3);
  assert.equal(big!.line!.length, 4096);
  assert.equal(bin!.encoding, 'base64');
  assert.deepEqual(Buffer.from(bin!.line!, 'base64'), binary);
  assert.equal(third!.line, 'L3 after the empty line');
  assert.equal(partial!.line, 'L4 partial without newline', 'the partial line is shipped after the timeout');
  const metrics = await fetch(`http://127.0.0.1:${/"metricsPort":(\d+)/.exec(proc.output())![1]}/metrics`).then((r) => r.text());
  assert.match(metrics, /podwatch_collector_truncated_lines_total\{source="edge"[^}]*\} 1/);
  assert.match(metrics, /podwatch_component_dropped_total\{component="file_source",reason="empty_line"[^}]*\} 1/);
  // More appended to the partial line is a new line, not a re-send of the old one.
  fs.appendFileSync(log, ' continued\nL5\n');
  await topic.waitForCount(6, 30_000);
  assert.deepEqual(topic.json<RawRecord>().slice(4).map((r) => r.line), [' continued', 'L5']);
  await proc.stop();
  proc = undefined;
  await topic.stop();
});

test('a file without read permission is reported once and picked up when it becomes readable', async () => {
  const { logDir, cfg, file } = setup('perm', { type: 'file', paths: ['LOGDIR/*.log'] });
  fs.writeFileSync(path.join(logDir, 'open.log'), lines(1, 2));
  fs.writeFileSync(path.join(logDir, 'secret.log'), lines(3, 4));
  fs.chmodSync(path.join(logDir, 'secret.log'), 0o000);
  // Root reads every file: run the collector without the capabilities that bypass file permissions
  // (still as root, so it can reach the checkout wherever it was cloned, even under a 0700 mktemp
  // directory, where running as nobody could not), so the permission check is real.
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  proc = spawnPodwatch(['run', 'collector', '--config', file], { wrapper: ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search'] });
  await topic.waitForCount(2, 30_000).catch((e) => { throw new Error(`${e.message}\n${proc!.output().slice(-2000)}`); });
  await proc.waitForOutput(/cannot open log file/);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((proc.output().match(/cannot open log file/g) ?? []).length, 1, 'warned once, not at every scan');
  fs.chmodSync(path.join(logDir, 'secret.log'), 0o644);
  await topic.waitForCount(4, 30_000);
  assert.deepEqual(topic.json<RawRecord>().map(seqOf).sort(), [1, 2, 3, 4]);
  await proc.stop();
  proc = undefined;
  await topic.stop();
});
