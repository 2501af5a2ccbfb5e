import type { Config } from '../../schemas/config.ts';
import { startOpsServer } from '../common/http.ts';
import { runStage, type Output } from '../common/kafka-stage.ts';
import { connectWithRetry, createKafka, ensureTopics } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import { createMetrics } from '../common/metrics.ts';
import { onShutdown } from '../common/shutdown.ts';
import { normalizeRaw } from './stage.ts';
import { normalizeContext } from './normalize.ts';

/** The normalizer service: `podwatch.raw` → `podwatch.events` (keyed by identity) or `podwatch.dlq`. */
export async function main(cfg: Readonly<Config>): Promise<void> {
  // Opens the GeoIP databases too: a bad path fails here, before any connection.
  const ctx = normalizeContext(cfg.normalizer);
  const logger = createLogger('normalizer', cfg.log.level);
  const metrics = createMetrics('normalizer');
  const kafka = createKafka(cfg.kafka, logger, '-normalizer');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await connectWithRetry(producer, cfg.kafka, logger, 'producer');
  await ensureTopics(kafka, cfg.kafka, ['raw', 'events', 'dlq']);
  const t = cfg.kafka.topics;
  const stage = await runStage({
    kafka, producer, logger, metrics, name: 'normalizer', groupId: `${cfg.kafka.group_prefix}-normalizer`, topic: t.raw,
    handle: (messages, where) => messages.map((m): Output => normalizeRaw(m, where, ctx, t, metrics)),
    commitIntervalMs: cfg.kafka.commit_interval_ms,
  });
  const ops = await startOpsServer(metrics, () => ({ ok: true, detail: { lag: stage.lag() } }), {
    host: cfg.normalizer.http.host, port: cfg.normalizer.http.port ?? 9465,
  });
  onShutdown(logger, async () => {
    await stage.stop();
    await producer.disconnect();
    await ops.close();
  });
  // Announced once SIGTERM is handled: a signal before that would kill the process outright.
  logger.info({ input: t.raw, events: t.events, dlq: t.dlq, metricsPort: ops.port }, 'normalizer started');
}
