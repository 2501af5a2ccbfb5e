import type { Kafka } from 'kafkajs';
import type { Logger } from './logger.ts';

/**
 * Stage state (detector windows, alert groups) in a compacted changelog topic with the same
 * partitions as the input topic: a key's state lives in the partition of the input that touched
 * it, so when the group hands a worker a partition, it restores exactly that partition's keys.
 */
export class ChangelogState<T> {
  /** Which changelog partition each live key belongs to. */
  readonly partitionOf = new Map<string, number>();

  constructor(private readonly kafka: Kafka, private readonly topic: string, private readonly logger: Logger, private readonly what = 'state') {}

  /** Reads the given changelog partitions to their end and returns the live entries. */
  async restore(partitions: number[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    if (partitions.length === 0) return out;
    const admin = this.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(this.topic);
    await admin.disconnect();
    const want = new Map<number, bigint>();
    for (const o of offsets) if (partitions.includes(o.partition) && BigInt(o.high) > BigInt(o.low)) want.set(o.partition, BigInt(o.high));
    const started = Date.now();
    if (want.size > 0) {
      const consumer = this.kafka.consumer({ groupId: `podwatch-restore-${this.what}-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.run({
          eachBatch: async ({ batch }) => {
            const end = want.get(batch.partition);
            if (end === undefined) return;
            for (const m of batch.messages) {
              const key = m.key!.toString();
              if (m.value === null) { out.delete(key); this.partitionOf.delete(key); } else {
                out.set(key, JSON.parse(m.value.toString()) as T);
                this.partitionOf.set(key, batch.partition);
              }
              if (BigInt(m.offset) + 1n >= end) want.delete(batch.partition);
            }
            if (want.size === 0) resolve();
          },
        }).catch(reject);
      });
      await consumer.disconnect();
    }
    this.logger.info({ partitions, keys: out.size, ms: Date.now() - started }, `${this.what} restored`);
    return out;
  }

  /** Forgets the keys of partitions this worker no longer owns. */
  drop(partitions: number[], states: Map<string, T>): void {
    for (const [key, p] of this.partitionOf) {
      if (partitions.includes(p)) { this.partitionOf.delete(key); states.delete(key); }
    }
  }
}
