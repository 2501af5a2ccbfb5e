import type { Config } from '../../schemas/config.ts';
import { ChangelogState } from '../common/changelog-state.ts';
import { errorMessage } from '../common/errors.ts';
import { startOpsServer } from '../common/http.ts';
import { runStage, sendInOrder } from '../common/kafka-stage.ts';
import { connectWithRetry, createKafka, ensureTopics } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import { createMetrics } from '../common/metrics.ts';
import { onShutdown } from '../common/shutdown.ts';
import { createChannels } from '../common/channels/index.ts';
import { Dispatcher } from '../common/dispatcher.ts';
import { Grouper, type GroupState } from './grouping.ts';
import { Mutes } from './mutes.ts';
import { AlerterStage } from './stage.ts';

/**
 * The alerter: `podwatch.alerts` → grouped, routed notifications on email, webhooks and the
 * console; failed deliveries wait in `podwatch.alert-retry`, given-up ones in `podwatch.dlq`.
 */
export async function main(cfg: Readonly<Config>): Promise<void> {
  const logger = createLogger('alerter', cfg.log.level);
  const metrics = createMetrics('alerter');
  const t = cfg.kafka.topics;
  const channels = createChannels(cfg.alerter);
  const dispatcher = new Dispatcher(channels, cfg.alerter.retry, logger.child({ component: 'dispatcher' }), metrics);
  const grouper = new Grouper(cfg.alerter.grouping);
  const kafka = createKafka(cfg.kafka, logger, '-alerter');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await connectWithRetry(producer, cfg.kafka, logger, 'producer');
  const stage = new AlerterStage(cfg, grouper, dispatcher, new Mutes(cfg.alerter, logger), logger.child({ component: 'alerter' }), metrics, (out) => sendInOrder(producer, out));
  await ensureTopics(kafka, cfg.kafka, ['alerts', 'alerter_state', 'retry', 'dlq']);
  const store = new ChangelogState<GroupState>(kafka, t.alerter_state, logger.child({ component: 'state' }), 'alert groups');
  let ready: Promise<void> = Promise.resolve();
  const groups = metrics.gauge('podwatch_alerter_open_groups', 'Alert groups open on this worker');

  const alerts = await runStage({
    kafka, producer, logger, metrics, name: 'alerter', groupId: `${cfg.kafka.group_prefix}-alerter`, topic: t.alerts,
    onAssign: async (partitions) => {
      ready = store.restore(partitions).then((entries) => {
        for (const [k, v] of entries) grouper.groups.set(k, v);
        for (const p of partitions) stage.owned.add(p);
      });
      await ready;
    },
    onRevoke: async (partitions) => {
      for (const p of partitions) stage.owned.delete(p);
      for (const k of grouper.groups.keys()) if (partitions.includes(Number(k.slice(0, k.indexOf('|'))))) grouper.groups.delete(k);
    },
    handle: async (messages, where) => {
      await ready;
      const out = await stage.handleAlerts(messages, where);
      groups.set(grouper.groups.size);
      return out;
    },
  });
  const retries = await runStage({
    kafka, producer, logger, metrics, name: 'alerter_retry', groupId: `${cfg.kafka.group_prefix}-alerter-retry`, topic: t.retry,
    handle: (messages, where) => stage.handleRetries(messages, where),
  });

  // Groups that went quiet close on the wall clock, between batches.
  const sweeper = setInterval(() => {
    stage.sweep().then((out) => sendInOrder(producer, out)).then(() => groups.set(grouper.groups.size))
      .catch((err) => logger.warn({ err: errorMessage(err) }, 'closing quiet alert groups failed; trying again'));
  }, Math.max(1000, Math.min(30_000, Math.floor(cfg.alerter.grouping.window_ms / 4))));

  const ops = await startOpsServer(metrics, () => {
    const unhealthy = [...dispatcher.health].filter(([, h]) => h.failingSince !== undefined).map(([name, h]) => ({ name, since: new Date(h.failingSince!).toISOString(), error: h.lastError }));
    return { ok: true, detail: { lag: alerts.lag(), retry_lag: retries.lag(), groups: grouper.groups.size, failing_channels: unhealthy } };
  }, { host: cfg.alerter.http.host, port: cfg.alerter.http.port ?? 9468 });
  onShutdown(logger, async () => {
    clearInterval(sweeper);
    await Promise.all([alerts.stop(), retries.stop()]);
    await producer.disconnect();
    for (const c of channels.values()) c.close?.();
    await ops.close();
  });
  // Announced once SIGTERM is handled: a signal before that would kill the process outright.
  logger.info({ channels: [...channels.values()].map((c) => `${c.name} (${c.type})`), routes: cfg.alerter.routes.length, input: t.alerts, metricsPort: ops.port }, 'alerter started');
}
