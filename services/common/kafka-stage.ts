import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { DeadLetter } from '../../schemas/dead-letter.ts';
import { errorMessage } from './errors.ts';
import { partitionLags } from './kafka.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** A record to produce; `value: null` is a tombstone, `partition` pins it (state changelogs). */
export interface Output { topic: string; key: string | null; value: string | null; partition?: number }

export interface StageOptions {
  kafka: Kafka;
  producer: Producer;
  groupId: string;
  topic: string;
  name: string;
  logger: Logger;
  metrics: Metrics;
  /** Turns one consumed batch of one partition into the records to produce, in order. */
  handle: (messages: KafkaMessage[], where: { topic: string; partition: number; heartbeat: () => Promise<void> }) => Promise<Output[]> | Output[];
  /** Called when the group hands this consumer partitions (state restore) and takes them away. */
  onAssign?: (partitions: number[]) => Promise<void>;
  onRevoke?: (partitions: number[]) => Promise<void>;
  fromBeginning?: boolean;
  /**
   * Partition batches handled at once (default 3). Each partition still commits only after its
   * own outputs are acknowledged, in order; overlapping them keeps the process busy while Kafka
   * acknowledges another partition's records. `handle` must not share per-batch state across awaits.
   */
  concurrency?: number;
  /**
   * Offsets are committed at most this often (default 0: after every batch). Between commits a
   * batch's outputs are still sent and acknowledged before its offset is resolved; only the commit
   * waits, so a crash replays at most this long of input. Stages whose outputs carry ids derived
   * from their inputs replay idempotently.
   */
  commitIntervalMs?: number;
  /**
   * Records that must be durable before offsets move (state changelog entries), asked for at each
   * commit: they cover at least every batch resolved so far. Sent, acknowledged, then committed.
   */
  beforeCommit?: () => Output[];
}

/**
 * The dead letter for a consumed message: what went wrong, and the message itself byte-exact
 * (base64 when it is not UTF-8) with the topic, partition and offset it came from.
 */
export function deadLetterOutput(
  m: KafkaMessage, where: { topic: string; partition: number }, dlqTopic: string,
  why: Pick<DeadLetter, 'stage' | 'reason'> & Partial<Pick<DeadLetter, 'component' | 'issues'>>,
): Output {
  const value = m.value ?? Buffer.alloc(0);
  const text = value.toString('utf8');
  const exact = Buffer.from(text, 'utf8').equals(value);
  const letter: DeadLetter = {
    '@timestamp': new Date().toISOString(), stage: why.stage, reason: why.reason,
    ...(why.component ? { component: why.component } : {}), issues: why.issues ?? [],
    original: exact ? text : value.toString('base64'), original_encoding: exact ? 'utf8' : 'base64',
    topic: where.topic, partition: where.partition, offset: m.offset,
  };
  return { topic: dlqTopic, key: m.key?.toString() ?? null, value: JSON.stringify(letter) };
}

/** How often a stage refreshes its lag from the input topic's end offsets. */
const LAG_REFRESH_MS = 2_000;

/** Largest request we build; Kafka's default message.max.bytes is 1 MiB per record batch. */
const MAX_REQUEST_BYTES = 900 * 1024;

/**
 * Consume → transform → produce, at least once: a batch's offset is committed only after every
 * record it produced (and, with `beforeCommit`, the state it changed) was acknowledged by Kafka
 * (acks=-1), in order. A crash before the commit replays from the last committed offset; stages
 * derive output ids from input ids, so replays are idempotent.
 */
export async function runStage(o: StageOptions): Promise<{ consumer: Consumer; stop: () => Promise<void>; lag: () => number }> {
  const consumer = o.kafka.consumer({
    groupId: o.groupId,
    sessionTimeout: 15_000,
    heartbeatInterval: 1_000,
    maxBytesPerPartition: 1024 * 1024,
    // Let the broker gather up to 256 KiB or 100 ms per fetch: under load, fewer and larger batches
    // cost less per record (fetch, produce, commit round trips); when quiet, at most 100 ms is added.
    minBytes: 256 * 1024,
    maxWaitTimeInMs: 100,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  const log = o.logger.child({ component: `${o.name}_stage` });
  const lagByPartition = new Map<number, number>();
  const lagGauge = o.metrics.gauge('podwatch_consumer_lag', 'Messages behind the end of the input topic', ['topic']);
  const setLag = (partition: number, lag: number) => {
    lagByPartition.set(partition, lag);
    lagGauge.set({ topic: o.topic }, [...lagByPartition.values()].reduce((a, b) => a + b, 0));
  };
  // Next offset to handle per partition (the first of a batch in hand until it is acknowledged).
  const position = new Map<number, bigint>();
  const batchTime = o.metrics.histogram('podwatch_stage_batch_seconds', 'Time from receiving a batch to its outputs being acknowledged', [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]);
  const commits = o.metrics.counter('podwatch_stage_commits_total', 'Offset commits by outcome (ok, failed: retried at the next one)', ['component', 'outcome']);
  const interval = o.commitIntervalMs ?? 0;

  // Resolved (outputs acknowledged) but not yet committed: partition → next offset to read.
  const pending = new Map<number, string>();
  let lastCommit = Date.now();
  // Batches between the start of `handle` and the acknowledgement of their outputs.
  let unacked = 0;
  // While set, a commit waits for the batches in hand and new batches wait for the commit: the
  // state it makes durable then reflects acknowledged batches only, so a replay from the committed
  // offsets can never find its alerts already counted in the state but missing from Kafka.
  let barrier: { promise: Promise<void>; release: (err?: unknown) => void } | undefined;
  let stopping = false;

  const runCommit = async (): Promise<void> => {
    const offsets = new Map(pending);
    pending.clear();
    lastCommit = Date.now();
    try {
      const durable = o.beforeCommit?.() ?? [];
      if (durable.length) await sendInOrder(o.producer, durable);
    } catch (err) {
      for (const [p, off] of offsets) if (!pending.has(p)) pending.set(p, off);
      throw err;
    }
    if (offsets.size === 0) return;
    try {
      await consumer.commitOffsets([...offsets].map(([partition, offset]) => ({ topic: o.topic, partition, offset })));
      commits.inc({ component: o.name, outcome: 'ok' });
    } catch (err) {
      // A rebalance in between: keep what no later batch superseded, for the next commit.
      for (const [p, off] of offsets) if (!pending.has(p)) pending.set(p, off);
      commits.inc({ component: o.name, outcome: 'failed' });
      log.debug({ err: errorMessage(err) }, 'offset commit failed; retried with the next one');
    }
  };
  /** Runs the requested commit once no batch is in hand; new batches wait until it is done. */
  const commitWhenDrained = async (): Promise<void> => {
    const b = barrier;
    if (!b || unacked > 0) return b?.promise;
    try {
      await runCommit();
      b.release();
    } catch (err) {
      b.release(err);
      throw err;
    } finally {
      if (barrier === b) barrier = undefined;
    }
  };
  const requestCommit = (): Promise<void> => {
    if (!barrier) {
      let release!: (err?: unknown) => void;
      const promise = new Promise<void>((resolve, reject) => { release = (err) => (err === undefined ? resolve() : reject(err)); });
      promise.catch(() => undefined);
      barrier = { promise, release };
    }
    return commitWhenDrained();
  };

  consumer.on(consumer.events.CRASH, (e) => log.warn({ err: errorMessage(e.payload.error), restart: e.payload.restart }, 'consumer crashed; kafkajs restarts it'));
  let assigned: number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, async (e) => {
    const next = e.payload.memberAssignment[o.topic] ?? [];
    log.info({ partitions: next }, 'partitions assigned');
    const gone = assigned.filter((p) => !next.includes(p));
    const fresh = next.filter((p) => !assigned.includes(p));
    assigned = next;
    // Progress on a partition that moved away is the new owner's to replay: never commit it from here.
    for (const p of gone) { pending.delete(p); lagByPartition.delete(p); position.delete(p); }
    if (gone.length && o.onRevoke) await o.onRevoke(gone);
    if (fresh.length && o.onAssign) await o.onAssign(fresh);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning ?? true });

  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: o.concurrency ?? 3,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
      while (barrier && !stopping) await barrier.promise.catch(() => undefined);
      if (stopping || !isRunning() || isStale() || batch.messages.length === 0) return;
      unacked++;
      position.set(batch.partition, BigInt(batch.firstOffset() ?? batch.messages[0]!.offset));
      try {
        const end = batchTime.startTimer();
        o.metrics.received.inc({ component: o.name }, batch.messages.length);
        const outputs = await o.handle(batch.messages, { topic: batch.topic, partition: batch.partition, heartbeat });
        await sendInOrder(o.producer, outputs, heartbeat);
        o.metrics.sent.inc({ component: o.name }, outputs.length);
        resolveOffset(batch.lastOffset());
        pending.set(batch.partition, (BigInt(batch.lastOffset()) + 1n).toString());
        position.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
        setLag(batch.partition, Number(batch.offsetLag()));
        end();
      } finally {
        unacked--;
      }
      if (interval === 0 && !o.beforeCommit) {
        // Nothing to make durable first: commit this partition alone, without waiting for the others.
        const offset = pending.get(batch.partition)!;
        pending.delete(batch.partition);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]);
      } else if (Date.now() - lastCommit >= interval) await requestCommit();
      else await commitWhenDrained();
    },
  });
  // A quiet input still gets its last offsets (and state) committed within the interval.
  const timer = interval > 0 ? setInterval(() => {
    if (Date.now() - lastCommit >= interval) {
      requestCommit().catch((err) => log.warn({ err: errorMessage(err) }, 'commit failed; retrying at the next one'));
    }
  }, interval) : undefined;
  timer?.unref();
  // While a batch waits (its sink is down) nothing is fetched, so batches stop reporting lag; the
  // backlog then grows in Kafka, and this refresh from the topic's end offsets keeps showing it.
  const admin = o.kafka.admin();
  let adminConnected = false;
  const refreshLag = async () => {
    if (!assigned.length) return;
    if (!adminConnected) { await admin.connect(); adminConnected = true; }
    const { lags } = await partitionLags(admin, o.groupId, o.topic, position);
    for (const p of assigned) if (lags.has(p)) setLag(p, Math.max(0, lags.get(p)!));
  };
  let refreshing = false;
  const lagTimer = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    refreshLag().catch(async (err) => {
      log.debug({ err: errorMessage(err) }, 'lag refresh failed; trying again');
      if (adminConnected) { adminConnected = false; await admin.disconnect().catch(() => undefined); }
    }).finally(() => { refreshing = false; });
  }, LAG_REFRESH_MS);
  lagTimer.unref();
  return {
    consumer,
    async stop() {
      // Finish the batches in hand, make their state durable and commit, then leave the group.
      stopping = true;
      clearInterval(timer);
      clearInterval(lagTimer);
      consumer.pause([{ topic: o.topic }]);
      while (unacked > 0 || barrier) await new Promise((r) => setTimeout(r, 20));
      await requestCommit();
      await consumer.disconnect();
      await admin.disconnect().catch(() => undefined);
    },
    lag: () => [...lagByPartition.values()].reduce((a, b) => a + b, 0),
  };
}

/** Produces outputs in order, in requests under the broker's size limit, acks=-1. */
export async function sendInOrder(producer: Producer, outputs: Output[], heartbeat?: () => Promise<void>): Promise<void> {
  let chunk: Output[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const out of chunk) {
      const list = byTopic.get(out.topic) ?? [];
      list.push({ key: out.key, value: out.value, ...(out.partition === undefined ? {} : { partition: out.partition }) });
      byTopic.set(out.topic, list);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    chunk = [];
    bytes = 0;
    await heartbeat?.();
  };
  for (const out of outputs) {
    const size = (out.value?.length ?? 0) + (out.key?.length ?? 0) + 64;
    if (bytes + size > MAX_REQUEST_BYTES) await flush();
    chunk.push(out);
    bytes += size;
  }
  await flush();
}
