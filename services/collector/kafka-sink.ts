import type { Producer } from 'kafkajs';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';
import type { Sink } from '../common/sink.ts';

interface Pending { key: string; value: string; bytes: number; onAck: () => void }

export interface SinkOptions {
  maxBatch: number; lingerMs: number; maxBuffered: number;
  /**
   * Runs after a batch's acks and before the next batch is sent: the collector writes its
   * checkpoints here, so at most the batch in flight is unrecorded when the process dies.
   */
  afterBatch?: () => void;
}

/**
 * Sends records to one topic in order, one batch in flight, acks -1. A record's `onAck` runs
 * only after Kafka acknowledged it and every record before it. When Kafka is unreachable the
 * batch is retried with backoff, never dropped, and `hasCapacity` turns false so sources stop
 * reading: the files and the journal are the buffer, memory stays bounded.
 */
export class KafkaSink implements Sink {
  private queue: Pending[] = [];
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private capacityWaiters: Array<() => void> = [];
  private failing = false;
  lastAckAt = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly opts: SinkOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  get hasCapacity(): boolean { return this.queue.length < this.opts.maxBuffered; }
  get buffered(): number { return this.queue.length; }
  get healthy(): boolean { return !this.failing; }

  push(key: string, value: string, onAck: () => void): void {
    this.queue.push({ key, value, bytes: Buffer.byteLength(value), onAck });
    this.metrics.received.inc({ component: 'kafka_sink' });
    if (this.queue.length >= this.opts.maxBatch) this.wake?.();
  }

  /** Resolves when the buffer has room again. */
  waitForCapacity(): Promise<void> {
    if (this.hasCapacity) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Sends everything buffered, then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private markFailing(msg: string, err?: unknown): void {
    if (!this.failing) this.logger.warn({ err: err === undefined ? undefined : errorMessage(err), buffered: this.queue.length }, msg);
    this.failing = true;
  }

  private async run(): Promise<void> {
    const sent = this.metrics.counter('podwatch_kafka_sink_bytes_total', 'Bytes acknowledged by Kafka');
    const batches = this.metrics.histogram('podwatch_kafka_sink_batch_seconds', 'Time to get a batch acknowledged', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]);
    let backoff = 200;
    while (this.running || this.queue.length > 0) {
      if (this.queue.length === 0) {
        await new Promise<void>((r) => { this.wake = r; setTimeout(r, 1000); });
        continue;
      }
      if (this.queue.length < this.opts.maxBatch && this.running) {
        await new Promise<void>((r) => { this.wake = r; setTimeout(r, this.opts.lingerMs); });
      }
      const batch = this.queue.slice(0, this.opts.maxBatch);
      const end = batches.startTimer();
      // kafkajs retries connections inside send; say so while it does.
      const watchdog = setTimeout(() => this.markFailing('Kafka has not acknowledged for 5 s; sources paused, still retrying'), 5_000);
      try {
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.map((p) => ({ key: p.key, value: p.value })),
        });
      } catch (err) {
        clearTimeout(watchdog);
        this.metrics.failed.inc({ component: 'kafka_sink', kind: 'send' });
        this.markFailing('Kafka send failed; retrying with backoff and pausing sources', err);
        await new Promise((r) => setTimeout(r, backoff + Math.random() * backoff));
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      clearTimeout(watchdog);
      end();
      if (this.failing) this.logger.info('Kafka send recovered');
      this.failing = false;
      backoff = 200;
      this.queue.splice(0, batch.length);
      this.lastAckAt = Date.now();
      for (const p of batch) { p.onAck(); sent.inc(p.bytes); }
      this.opts.afterBatch?.();
      this.metrics.sent.inc({ component: 'kafka_sink' }, batch.length);
      if (this.hasCapacity) for (const w of this.capacityWaiters.splice(0)) w();
    }
  }
}
