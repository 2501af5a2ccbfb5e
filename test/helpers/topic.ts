import type { Kafka, KafkaMessage } from 'kafkajs';
import { uniq } from './stack.ts';
import { waitUntil } from './process.ts';

export interface Collected { key: string; value: string; partition: number; offset: string }

/** Follows a topic from the beginning and keeps every message, for tests to assert on. */
export async function followTopic(kafka: Kafka, topic: string) {
  const messages: Collected[] = [];
  const consumer = kafka.consumer({ groupId: uniq('follow'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }: { message: KafkaMessage; partition: number }) => {
      messages.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', partition, offset: message.offset });
    },
  });
  return {
    messages,
    json: <T = any>() => messages.map((m) => JSON.parse(m.value) as T),
    waitForCount: (n: number, timeoutMs = 60_000) => waitUntil(() => messages.length >= n, timeoutMs, `${n} messages on ${topic} (have ${messages.length})`),
    stop: () => consumer.disconnect(),
  };
}
