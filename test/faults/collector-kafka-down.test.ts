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

  let n = 0;
  const write = (count: number) => { let s = ''; for (let i = 0; i < count; i++) s += `L${++n} ${'p'.repeat(200)}\n`; fs.appendFileSync(log, s); };
  const writer = setInterval(() => write(100), 50);
  const rss: number[] = [];
  let baseline = 0;
  const sampler = setInterval(() => rss.push(proc!.rssKiB()), 500);
  try {
    await new Promise((r) => setTimeout(r, 2_000));
    baseline = Math.max(...rss) / 1024;
    stack('kafka-down');
    await new Promise((r) => setTimeout(r, 20_000));
    stack('kafka-up');
    await new Promise((r) => setTimeout(r, 3_000));
  } finally {
    clearInterval(writer);
  }
  const written = n;
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  await waitUntil(() => new Set(topic.json<RawRecord>().map((r) => r.line)).size >= written, 120_000, `all ${written} lines`);
  clearInterval(sampler);
  const records = topic.json<RawRecord>();
  const unique = new Set(records.map((r) => r.line));
  assert.equal(unique.size, written, 'no line lost');
  assert.ok(records.length - unique.size <= 500, `duplicates ${records.length - unique.size} exceed one batch`);
  assert.equal(new Set(records.map((r) => r.id)).size, unique.size, 'duplicates carry the same record id');
  const peakMiB = Math.max(...rss) / 1024;
  // ~40,000 lines (8 MB) were written during the outage; they must wait in the file, not in memory.
  assert.ok(peakMiB - baseline < 48, `collector RSS grew from ${baseline.toFixed(0)} to ${peakMiB.toFixed(0)} MiB`);
  assert.match(proc.output(), /Kafka (send failed|has not acknowledged)/);
  assert.match(proc.output(), /Kafka send recovered/);
  console.log(`kafka-down: ${written} lines, RSS ${baseline.toFixed(0)} MiB before, peak ${peakMiB.toFixed(0)} MiB, duplicates ${records.length - unique.size}`);
  await proc.stop();
  proc = undefined;
  await topic.stop();
});
