import type { Config } from '../../schemas/config.ts';
import { ConfigError } from '../common/config.ts';
import { createElasticsearch, whenElasticsearchReady } from '../common/elasticsearch.ts';
import { startOpsServer } from '../common/http.ts';
import { runStage } from '../common/kafka-stage.ts';
import { connectWithRetry, createKafka, ensureTopics } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import { createMetrics } from '../common/metrics.ts';
import { onShutdown } from '../common/shutdown.ts';
import { indexBatch } from './stage.ts';
import { installTemplates } from './templates.ts';

/** The indexer: `podwatch.events` and `podwatch.alerts` → Elasticsearch, idempotent by id. */
export async function main(cfg: Readonly<Config>): Promise<void> {
  if (!cfg.elasticsearch) throw new ConfigError('the indexer needs elasticsearch.url (or PODWATCH_ES_URL)');
  const logger = createLogger('indexer', cfg.log.level);
  const metrics = createMetrics('indexer');
  const client = createElasticsearch(cfg.elasticsearch);
  const layout = await whenElasticsearchReady(cfg.elasticsearch, logger, 'installing index templates',
    () => installTemplates(client, cfg.elasticsearch!.namespace, cfg.indexer, logger));
  const kafka = createKafka(cfg.kafka, logger, '-indexer');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await connectWithRetry(producer, cfg.kafka, logger, 'producer');
  await ensureTopics(kafka, cfg.kafka, ['events', 'alerts', 'dlq']);
  const t = cfg.kafka.topics;
  const stages = await Promise.all((['events', 'alerts'] as const).map((kind) => runStage({
    kafka, producer, logger, metrics, name: `indexer_${kind}`, groupId: `${cfg.kafka.group_prefix}-indexer-${kind}`, topic: t[kind],
    // One bulk at a time: Elasticsearch is the bottleneck, and while it is away only one batch waits in memory.
    concurrency: 1,
    commitIntervalMs: cfg.kafka.commit_interval_ms,
    // Heartbeats while Elasticsearch is away keep the partitions here; nothing is fetched meanwhile.
    handle: (messages, where) => indexBatch(messages, where, kind, { client, layout, topics: t, logger, metrics, keepAlive: where.heartbeat }),
  })));
  const ops = await startOpsServer(metrics, () => ({ ok: true, detail: { lag: stages.reduce((a, s) => a + s.lag(), 0) } }), {
    host: cfg.indexer.http.host, port: cfg.indexer.http.port ?? 9467,
  });
  onShutdown(logger, async () => {
    await Promise.all(stages.map((s) => s.stop()));
    await producer.disconnect();
    await client.close();
    await ops.close();
  });
  // Announced once SIGTERM is handled: a signal before that would kill the process outright.
  logger.info({ events: layout.pattern(['events']), alerts: layout.pattern(['alerts']), retention: layout.retention, metricsPort: ops.port }, 'indexer started');
}
