import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import type { Alert } from '../../schemas/alert.ts';
import type { EcsEvent } from '../../schemas/event.ts';
import { fixture, variant } from '../../detectors/lib/test-helpers.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from '../helpers/log.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stackConfig } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

const procs: Proc[] = [];
after(async () => { for (const p of procs) await p.stop('SIGKILL'); });

test('state survives kill -9 and a partition moving to another worker; replays alert once', async () => {
  const cfg = stackConfig();
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['events', 'alerts', 'state']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-detector-'));
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({ kafka: { brokers: cfg.kafka.brokers, topics: { ...cfg.kafka.topics } }, detector: { http: { port: 0 } } }));
  const alerts = await followTopic(kafka, cfg.kafka.topics.alerts);
  const state = await followTopic(kafka, cfg.kafka.topics.state);
  const producer = kafka.producer();
  await producer.connect();
  const send = (es: EcsEvent[]) => producer.send({ topic: cfg.kafka.topics.events, acks: -1, messages: es.map((e) => ({ key: e.user?.name ?? e.source?.ip ?? null, value: JSON.stringify(e) })) });
  const start = async () => { const p = spawnPodwatch(['run', 'detector', '--config', file]); procs.push(p); await p.waitForOutput(/detector state restored/); return p; };

  const failure = fixture('auth-failure-burst', 'positive')[0]!;
  const burst = Array.from({ length: 5 }, (_, i) => variant(failure, i * 5, `burst-${i}`, (x) => { x.source.ip = '203.0.113.9'; }));
  const exec = fixture('container-exec', 'positive')[0]!;

  // Two workers share the partitions; the one that owns the burst's partition dies mid-burst.
  const assigned = (p: Proc) => { const all = [...p.output().matchAll(/"partitions":\[([\d,]*)\][^\n]*partitions assigned/g)]; return all.length ? all[all.length - 1]![1]!.split(',').filter(Boolean).map(Number) : []; };
  const workers = [await start(), await start()];
  await waitUntil(() => new Set(workers.flatMap(assigned)).size === 3 && workers.every((w) => assigned(w).length > 0), 60_000, 'both workers assigned');
  const [meta] = await send(burst.slice(0, 1));
  await send([...burst.slice(1, 3), variant(exec, 1, 'exec-1')]);
  await waitUntil(() => state.messages.some((m) => m.key === 'auth-failure-burst|ip:203.0.113.9' && JSON.parse(m.value).state.t.length === 3), 30_000, 'three failures in the changelog');
  await waitUntil(() => alerts.messages.length >= 1, 30_000, 'the first exec alert');
  const owner = workers.find((w) => assigned(w).includes(meta!.partition))!;
  const survivor = workers.find((w) => w !== owner)!;
  await owner.stop('SIGKILL');

  await send([...burst.slice(3), variant(exec, 40, 'exec-2')]);
  await waitUntil(() => assigned(survivor).length === 3, 60_000, 'the survivor taking over every partition');
  await waitUntil(() => /"keys":[1-9]\d*,[^\n]*detector state restored/.test(survivor.output()), 30_000, 'the survivor restoring the dead worker\'s state');
  await waitUntil(() => alerts.json<Alert>().filter((a) => a.rule.id === 'auth-failure-burst').length >= 1 && alerts.json<Alert>().filter((a) => a.rule.id === 'container-exec').length >= 2, 60_000, 'the burst and the second exec');
  await new Promise((r) => setTimeout(r, 1500));
  const got = alerts.json<Alert>();
  assert.equal(got.filter((a) => a.rule.id === 'auth-failure-burst').length, 1, 'one burst alert across the restart');
  assert.equal(got.find((a) => a.rule.id === 'auth-failure-burst')!.alert.count, 5);
  assert.deepEqual(got.filter((a) => a.rule.id === 'container-exec').map((a) => a.alert.severity), ['high', 'medium'], 'first-seen survives the restart');

  // Replay everything: no new alert ids (a replayed window or exec yields the same evidence ids).
  const before = new Set(got.map((a) => a.alert.id));
  await send([...burst, variant(exec, 1, 'exec-1')]);
  await new Promise((r) => setTimeout(r, 4000));
  const replayAlerts = alerts.json<Alert>().slice(got.length);
  assert.deepEqual(replayAlerts.filter((a) => !before.has(a.alert.id)).map((a) => a.alert.summary), [], 'a replay repeats alert ids, never new ones');
  assert.equal(replayAlerts.filter((a) => a.rule.id === 'auth-failure-burst').length, 0);
  await Promise.all([alerts.stop(), state.stop(), producer.disconnect()]);
});
