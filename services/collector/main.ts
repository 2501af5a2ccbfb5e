import type { Config } from '../../schemas/config.ts';
import { connectWithRetry, createKafka, ensureTopics } from '../common/kafka.ts';
import { startOpsServer } from '../common/http.ts';
import { createLogger } from '../common/logger.ts';
import { createMetrics } from '../common/metrics.ts';
import { onShutdown } from '../common/shutdown.ts';
import { Collector } from './collector.ts';
import { KafkaSink } from './kafka-sink.ts';

/** The collector service: sources → `podwatch.raw`. */
export async function main(cfg: Readonly<Config>): Promise<void> {
  const logger = createLogger('collector', cfg.log.level);
  const metrics = createMetrics('collector');
  if (cfg.collector.sources.length === 0) logger.warn('no sources configured: nothing to collect');
  const kafka = createKafka(cfg.kafka, logger, '-collector');
  // Few retries inside kafkajs: the sink retries forever itself and reports the outage meanwhile.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 3_000 } });
  await connectWithRetry(producer, cfg.kafka, logger, 'producer');
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  const sink = new KafkaSink(producer, cfg.kafka.topics.raw, {
    maxBatch: cfg.collector.batch_max_records,
    lingerMs: cfg.collector.batch_linger_ms,
    maxBuffered: cfg.collector.batch_max_records * 4,
    afterBatch: () => collector.flushCheckpoints(),
  }, metrics, logger.child({ component: 'kafka_sink' }));
  const collector = new Collector(cfg, sink, metrics, logger);
  sink.start();
  await collector.start();
  const ops = await startOpsServer(metrics, () => ({ ok: sink.healthy, detail: { buffered: sink.buffered } }), {
    host: cfg.collector.http.host, port: cfg.collector.http.port ?? 9464,
  });
  onShutdown(logger, async () => {
    await collector.stop();
    await sink.stop();
    collector.close();
    await producer.disconnect();
    await ops.close();
  });
  // Announced once SIGTERM is handled: a signal before that would kill the process outright.
  logger.info({ sources: cfg.collector.sources.map((s) => s.name), topic: cfg.kafka.topics.raw, metricsPort: ops.port }, 'collector started');
}
