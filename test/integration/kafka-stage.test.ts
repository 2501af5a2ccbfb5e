import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { runStage, type Output } from '../../services/common/kafka-stage.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { createMetrics } from '../../services/common/metrics.ts';
import { memoryLogger } from '../helpers/log.ts';
import { waitUntil } from '../helpers/process.ts';
import { stackConfig, uniq } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

const cfg = stackConfig();
const t = cfg.kafka.topics;
let kafka: Kafka;

async function committedTotal(groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [t.raw] });
  await admin.disconnect();
  return (offsets?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
}

test('deferred commits: at most one per interval, only after the state records are acknowledged and no batch is in hand; stop commits the rest', async () => {
  kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['raw', 'events', 'state']);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const total = 6_000;

  const metrics = createMetrics('test');
  const groupId = uniq('stage');
  let handled = 0;
  let inHandle = 0;
  const busyAtCommit: number[] = [];
  const markers: number[] = [];
  const stage = await runStage({
    kafka, producer, logger: memoryLogger('error').logger, metrics, name: 'probe', groupId, topic: t.raw,
    concurrency: 3, commitIntervalMs: 400,
    // Slow, overlapping batches, so that a commit without the barrier would find one in hand.
    handle: async (messages) => {
      inHandle++;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 40));
      handled += messages.length;
      inHandle--;
      return messages.map((m): Output => ({ topic: t.events, key: m.key!.toString(), value: m.value!.toString() }));
    },
    beforeCommit: () => {
      busyAtCommit.push(inHandle);
      markers.push(handled);
      return [{ topic: t.state, key: 'handled', value: String(handled), partition: 0 }];
    },
  });
  const outputs = await followTopic(kafka, t.events);
  // Written while the stage runs, in small sends, so it sees many small batches at once.
  for (let start = 0; start < total; start += 100) {
    await producer.send({ topic: t.raw, acks: -1, messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${(start + i) % 11}`, value: String(start + i) })) });
    await new Promise((r) => setTimeout(r, 20));
  }
  await outputs.waitForCount(total);

  // While running: the committed offsets never pass what the state topic already holds.
  const state = await followTopic(kafka, t.state);
  await waitUntil(async () => (await committedTotal(groupId)) > 0, 10_000, 'a first commit');
  const committedWhileRunning = await committedTotal(groupId);
  await waitUntil(() => state.messages.some((m) => Number(m.value) >= committedWhileRunning), 10_000, 'a state record covering the committed offsets');

  await stage.stop();
  assert.equal(await committedTotal(groupId), total, 'stop commits everything handled');
  assert.deepEqual(busyAtCommit.filter((n) => n > 0), [], 'a commit ran while a batch was still being handled');
  const commitLines = (await metrics.registry.getSingleMetricAsString('podwatch_stage_commits_total')).split('\n').filter((l) => l.startsWith('podwatch_stage_commits_total{'));
  const commits = commitLines.reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  const batches = Number(/podwatch_stage_batch_seconds_count\S* (\d+)/.exec(await metrics.registry.getSingleMetricAsString('podwatch_stage_batch_seconds'))?.[1]);
  assert.ok(commits >= 1 && commits < batches, `${commits} commits for ${batches} batches`);
  assert.equal(markers.at(-1), total, 'the last state record covers every handled message');
  assert.equal(new Set(outputs.messages.map((m) => m.value)).size, total);
  await Promise.all([outputs.stop(), state.stop(), producer.disconnect()]);
});

after(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [t.raw, t.events, t.state] }).catch(() => undefined);
  await admin.disconnect();
});
