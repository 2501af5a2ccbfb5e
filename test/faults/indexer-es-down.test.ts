import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { fixture } from '../../detectors/lib/test-helpers.ts';
import { createElasticsearch } from '../../services/common/elasticsearch.ts';
import { sendInOrder } from '../../services/common/kafka-stage.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from '../helpers/log.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stack } from '../helpers/stack-control.ts';
import { stackConfig, uniq } from '../helpers/stack.ts';

let proc: Proc | undefined;
after(async () => { await proc?.stop('SIGKILL'); stack('es-up'); });

test('Elasticsearch stopped for 30 s mid-stream: nothing lost, no duplicate, the backlog waits in Kafka, indexing resumes', async () => {
  const namespace = uniq('esdown').replace(/-/g, '_');
  const cfg = stackConfig({ elasticsearch: { namespace } });
  const es = createElasticsearch(cfg.elasticsearch!);
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['events', 'alerts', 'dlq']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-esdown-'));
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({ kafka: { brokers: cfg.kafka.brokers, topics: { ...cfg.kafka.topics } }, elasticsearch: { url: cfg.elasticsearch!.url, namespace, request_timeout_ms: 5000 }, indexer: { http: { port: 0 } } }));
  const producer = kafka.producer();
  await producer.connect();
  const base = fixture('container-exec', 'positive')[0]!;
  let n = 0;
  const batch = (count: number) => Array.from({ length: count }, () => {
    const e = structuredClone(base) as any;
    e.event.id = `es-${n++}`;
    return { topic: cfg.kafka.topics.events, key: null, value: JSON.stringify(e) };
  });
  const count = async () => {
    await es.indices.refresh({ index: `podwatch-events-${namespace}-*` });
    return (await es.count({ index: `podwatch-events-${namespace}-*` })).body.count as number;
  };
  proc = spawnPodwatch(['run', 'indexer', '--config', file]);
  await proc.waitForOutput(/indexer started/);
  await sendInOrder(producer, batch(5_000));
  await waitUntil(async () => (await count().catch(() => -1)) === 5_000, 60_000, 'the first 5,000');

  const lag = async () => (await fetch(`http://127.0.0.1:${/"metricsPort":(\d+)/.exec(proc!.output())![1]}/healthz`).then((r) => r.json()) as { lag: number }).lag;
  type Phase = 'outage' | 'catch-up';
  let phase = 'outage' as Phase;
  const rss: Array<{ phase: Phase; mib: number }> = [];
  const sampler = setInterval(() => rss.push({ phase, mib: proc!.rssKiB() / 1024 }), 500);
  const baseline = proc.rssKiB() / 1024;
  stack('es-down');
  const down = Date.now();
  const sentBefore = n;
  for (let i = 0; i < 6; i++) { await sendInOrder(producer, batch(5_000)); await new Promise((r) => setTimeout(r, 4_000)); }
  await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - down))));
  // The backlog waits in Kafka, where the indexer's own lag gauge keeps reporting it.
  const lagAtEnd = await lag();
  phase = 'catch-up';
  stack('es-up');
  const upAt = Date.now();
  await waitUntil(async () => (await count().catch(() => 0)) >= n, 180_000, `all ${n} documents after the outage`);
  const recoverySeconds = (Date.now() - upAt) / 1000;
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, 2_000));
  assert.equal(await count(), n, 'no document lost, none twice');
  const peak = (p: Phase) => Math.max(...rss.filter((r) => r.phase === p).map((r) => r.mib));
  assert.ok(lagAtEnd >= (n - sentBefore) * 0.9, `lag ${lagAtEnd} at the end of the outage, ${n - sentBefore} events sent during it`);
  // One batch in hand at a time and no further fetches: holding 30,000 events would cost far more.
  assert.ok(peak('outage') - baseline < 32, `RSS grew from ${baseline.toFixed(0)} to ${peak('outage').toFixed(0)} MiB while 30,000 events waited`);
  assert.match(proc.output(), /Elasticsearch unavailable; retrying and holding the Kafka offset/);
  assert.match(proc.output(), /Elasticsearch indexing recovered/);
  console.log(`es-down: ${n} events, lag ${lagAtEnd} at the end of the outage; RSS ${baseline.toFixed(0)} MiB before, peak ${peak('outage').toFixed(0)} during, ` +
    `${peak('catch-up').toFixed(0)} catching up; caught up ${recoverySeconds.toFixed(1)} s after Elasticsearch was healthy again`);
  await proc.stop();
  proc = undefined;
  await producer.disconnect();
  await es.indices.delete({ index: `podwatch-*-${namespace}-*` }).catch(() => undefined);
  await es.close();
});
