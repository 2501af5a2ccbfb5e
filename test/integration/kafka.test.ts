import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Consumer, Kafka } from 'kafkajs';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from '../helpers/log.ts';
import { stackConfig, uniq } from '../helpers/stack.ts';

const cfg = stackConfig();
const { logger } = memoryLogger('warn');
let kafka: Kafka;

before(async () => {
  kafka = createKafka(cfg.kafka, logger);
  await ensureTopics(kafka, cfg.kafka, ['raw']);
});

/** Consumes with offsets committed after each batch; stops once `stopAfter` messages were seen. */
async function consumeCommitted(groupId: string, stopAfter: number, seen: string[]): Promise<void> {
  const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic: cfg.kafka.topics.raw, fromBeginning: true });
  let stopping = false;
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (stopping) return;
        for (const m of batch.messages) {
          seen.push(m.value!.toString());
          resolveOffset(m.offset);
        }
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
        await heartbeat();
        if (seen.length >= stopAfter) { stopping = true; resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
}

test('10,000 messages: a consumer group commits, stops, and a restarted consumer resumes without re-reading', async () => {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const total = 10_000;
  for (let start = 0; start < total; start += 1_000) {
    await producer.send({
      topic: cfg.kafka.topics.raw, acks: -1,
      messages: Array.from({ length: 1_000 }, (_, i) => ({ key: `k${(start + i) % 7}`, value: `m${start + i}` })),
    });
  }
  await producer.disconnect();

  const groupId = uniq('group');
  const first: string[] = [];
  await consumeCommitted(groupId, 4_000, first);
  assert.ok(first.length >= 4_000 && first.length < total, `first consumer read ${first.length}`);

  const second: string[] = [];
  await consumeCommitted(groupId, total - first.length, second);
  const overlap = second.filter((v) => new Set(first).has(v));
  assert.equal(overlap.length, 0, 'the restarted consumer re-read committed messages');
  assert.equal(new Set([...first, ...second]).size, total);
  assert.equal(first.length + second.length, total);

  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId, topics: [cfg.kafka.topics.raw] });
  const ends = await admin.fetchTopicOffsets(cfg.kafka.topics.raw);
  await admin.disconnect();
  for (const p of offsets[0]!.partitions) {
    assert.equal(p.offset, ends.find((e) => e.partition === p.partition)!.high, `partition ${p.partition} fully committed`);
  }
});

after(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [cfg.kafka.topics.raw] }).catch(() => undefined);
  await admin.disconnect();
});
