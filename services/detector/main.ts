import { z } from 'zod';
import type { Config } from '../../schemas/config.ts';
import { EcsEvent } from '../../schemas/event.ts';
import { startOpsServer } from '../common/http.ts';
import { deadLetterOutput, runStage, type Output } from '../common/kafka-stage.ts';
import { connectWithRetry, createKafka, ensureTopics } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import { createMetrics } from '../common/metrics.ts';
import { onShutdown } from '../common/shutdown.ts';
import { ChangelogState } from '../common/changelog-state.ts';
import { DetectionEngine, enabledDetectors, type StateEntry } from './engine.ts';

/** A detector worker: `podwatch.events` → `podwatch.alerts`, state in the changelog topic. Run several. */
export async function main(cfg: Readonly<Config>): Promise<void> {
  const logger = createLogger('detector', cfg.log.level);
  const metrics = createMetrics('detector');
  const enabled = enabledDetectors(cfg);
  const t = cfg.kafka.topics;
  const kafka = createKafka(cfg.kafka, logger, '-detector');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await connectWithRetry(producer, cfg.kafka, logger, 'producer');
  await ensureTopics(kafka, cfg.kafka, ['events', 'alerts', 'state', 'dlq']);
  const alertsTotal = metrics.counter('podwatch_detector_alerts_total', 'Alerts produced', ['detector']);
  const suppressedTotal = metrics.counter('podwatch_detector_suppressed_total', 'Alerts suppressed by an exception', ['detector']);
  const engine = new DetectionEngine(enabled, {
    alert: (d) => alertsTotal.inc({ detector: d }),
    suppressed: (d) => suppressedTotal.inc({ detector: d }),
  });
  const store = new ChangelogState<StateEntry>(kafka, t.state, logger.child({ component: 'state' }), 'detector state');
  let ready: Promise<void> = Promise.resolve();
  let batches = 0;
  // Keys changed since the last commit.
  const changed = new Set<string>();

  const stage = await runStage({
    kafka, producer, logger, metrics, name: 'detector', groupId: `${cfg.kafka.group_prefix}-detector`, topic: t.events,
    onAssign: async (partitions) => {
      ready = store.restore(partitions).then((entries) => { for (const [k, v] of entries) engine.states.set(k, v); });
      await ready;
    },
    onRevoke: async (partitions) => {
      // Their unsaved changes are the new owner's to replay from the committed offsets.
      for (const sk of changed) if (partitions.includes(store.partitionOf.get(sk) ?? -1)) changed.delete(sk);
      store.drop(partitions, engine.states);
    },
    handle: async (messages, where) => {
      await ready;
      const out: Output[] = [];
      for (const m of messages) {
        const text = m.value?.toString() ?? '';
        let parsed: unknown;
        try { parsed = JSON.parse(text); } catch { parsed = undefined; }
        const r = EcsEvent.safeParse(parsed);
        if (!r.success) {
          out.push(deadLetterOutput(m, where, t.dlq, {
            stage: 'detector', reason: 'not a valid event', issues: parsed === undefined ? ['not JSON'] : z.prettifyError(r.error).split('\n'),
          }));
          continue;
        }
        for (const a of engine.process(r.data)) out.push({ topic: t.alerts, key: a.alert.entity.value, value: JSON.stringify(a) });
      }
      if (++batches % 50 === 0) engine.expire();
      // A key's changelog partition is the input partition that first touched it.
      for (const sk of engine.dirty) if (!store.partitionOf.has(sk)) store.partitionOf.set(sk, where.partition);
      for (const sk of engine.dirty) changed.add(sk);
      engine.dirty.clear();
      return out;
    },
    // State changes reach the changelog once per commit, not once per batch: a key that changes
    // with every event is written once a second. Its value then reflects acknowledged batches only.
    commitIntervalMs: cfg.kafka.commit_interval_ms,
    beforeCommit: () => {
      const out: Output[] = [];
      for (const sk of changed) {
        const entry = engine.states.get(sk);
        const partition = store.partitionOf.get(sk);
        if (partition === undefined) continue;
        out.push({ topic: t.state, key: sk, value: entry ? JSON.stringify(entry) : null, partition });
        if (!entry) store.partitionOf.delete(sk);
      }
      changed.clear();
      return out;
    },
  });
  const ops = await startOpsServer(metrics, () => ({ ok: true, detail: { lag: stage.lag(), keys: engine.states.size } }), {
    host: cfg.detector.http.host, port: cfg.detector.http.port ?? 9466,
  });
  onShutdown(logger, async () => {
    await stage.stop();
    await producer.disconnect();
    await ops.close();
  });
  // Announced once SIGTERM is handled: a signal before that would kill the process outright.
  logger.info({ detectors: enabled.map((e) => e.detector.meta.id), input: t.events, alerts: t.alerts, metricsPort: ops.port }, 'detector started');
}
