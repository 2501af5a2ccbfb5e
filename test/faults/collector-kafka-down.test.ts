import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import type { RawRecord } from '../../schemas/raw.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from '../helpers/log.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stack } from '../helpers/stack-control.ts';
import { stackConfig } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

let proc: Proc | undefined;
after(async () => { await proc?.stop('SIGKILL'); stack('kafka-up'); });

test('Kafka stopped for 20 s while lines keep coming: every line arrives, memory stays bounded', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-kafka-down-'));
  const cfg = stackConfig();
  const log = path.join(dir, 'access.log');
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({
    kafka: { brokers: cfg.kafka.brokers, topics: { ...cfg.kafka.topics } },
    collector: { checkpoint_dir: path.join(dir, 'cp'), start_at: 'beginning', poll_interval_ms: 50, http: { port: 0 }, sources: [{ type: 'file', name: 'proxy', paths: [log] }] },
  }));
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  fs.writeFileSync(log, '');
  proc = spawnPodwatch(['run', 'collector', '--config', file]);
  await proc.waitForOutput(/collector started/);

  const ops = `http://127.0.0.1:${/"metricsPort":(\d+)/.exec(proc.output())![1]}`;
  const buffered = async () => (await fetch(`${ops}/healthz`).then((r) => r.json()) as { buffered: number }).buffered;
  const lagBytes = async () => [...(await fetch(`${ops}/metrics`).then((r) => r.text())).matchAll(/^podwatch_collector_lag_bytes\{[^}]*\} (\d+)$/gm)]
    .reduce((sum, m) => sum + Number(m[1]), 0);

  // ~2 MB/s: an outage of 20 s leaves 40 MB and 80,000 lines behind, far more than the sink holds.
  const line = 'p'.repeat(480);
  let n = 0;
  let bytes = 0;
  const write = (count: number) => {
    let s = '';
    for (let i = 0; i < count; i++) s += `L${++n} ${line}\n`;
    fs.appendFileSync(log, s);
    bytes += Buffer.byteLength(s);
  };
  const writer = setInterval(() => write(200), 50);
  const samples: Array<{ phase: 'before' | 'outage' | 'catch-up'; rssMiB: number; buffered: number }> = [];
  let phase: 'before' | 'outage' | 'catch-up' = 'before';
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ phase, rssMiB: proc!.rssKiB() / 1024, buffered: await buffered().catch(() => 0) });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  let outageBytes = 0;
  let lagAtEnd = 0;
  try {
    await new Promise((r) => setTimeout(r, 3_000));
    stack('kafka-down');
    phase = 'outage';
    const bytesAtDown = bytes;
    await new Promise((r) => setTimeout(r, 20_000));
    lagAtEnd = await lagBytes();
    outageBytes = bytes - bytesAtDown;
    stack('kafka-up');
    phase = 'catch-up';
    await new Promise((r) => setTimeout(r, 3_000));
  } finally {
    clearInterval(writer);
  }
  const written = n;
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  await topic.waitForCount(written, 120_000);
  await waitUntil(() => new Set(topic.json<RawRecord>().map((r) => r.line)).size >= written, 60_000, `all ${written} lines`);
  sampling = false;
  await sampler;
  const records = topic.json<RawRecord>();
  const unique = new Set(records.map((r) => r.line));
  assert.equal(unique.size, written, 'no line lost');
  assert.ok(records.length - unique.size <= 500, `duplicates ${records.length - unique.size} exceed one batch`);
  assert.equal(new Set(records.map((r) => r.id)).size, unique.size, 'duplicates carry the same record id');

  // Bounded: the sink never holds more than its limit (4 batches of 500) plus the lines of one
  // 64 KiB read; the outage's backlog waits in the file, where the lag gauge reports it.
  const maxBuffered = Math.max(...samples.map((s) => s.buffered));
  assert.ok(maxBuffered <= 2_000 + Math.ceil(65_536 / line.length), `the sink held ${maxBuffered} records`);
  assert.ok(lagAtEnd >= outageBytes * 0.8, `lag ${lagAtEnd} B at the end of the outage, ${outageBytes} B written during it`);
  const peak = (p: string) => Math.max(...samples.filter((s) => s.phase === p).map((s) => s.rssMiB));
  const baseline = peak('before');
  // Holding the outage's 40 MB in memory would cost far more than this; reading paused costs nothing.
  assert.ok(peak('outage') - baseline < 24, `collector RSS grew from ${baseline.toFixed(0)} to ${peak('outage').toFixed(0)} MiB during the outage`);
  assert.match(proc.output(), /Kafka (send failed|has not acknowledged)/);
  assert.match(proc.output(), /Kafka send recovered/);
  console.log(`kafka-down: ${written} lines, ${(outageBytes / 1e6).toFixed(0)} MB during the outage, sink held at most ${maxBuffered} records, ` +
    `lag at its end ${(lagAtEnd / 1e6).toFixed(0)} MB; RSS ${baseline.toFixed(0)} MiB before, peak ${peak('outage').toFixed(0)} during, ` +
    `${peak('catch-up').toFixed(0)} catching up; duplicates ${records.length - unique.size}`);
  await proc.stop();
  proc = undefined;
  await topic.stop();
});
