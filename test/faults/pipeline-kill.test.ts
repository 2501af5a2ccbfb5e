import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Notification } from '../../schemas/notification.ts';
import { LoadWriter, startPipeline, type Pipeline, type ServiceName } from '../helpers/pipeline.ts';
import { waitUntil } from '../helpers/process.ts';
import { stack } from '../helpers/stack-control.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.ts';

let pipeline: Pipeline | undefined;
let hook: WebhookReceiver | undefined;
after(async () => { await pipeline?.stopAll(); await hook?.close(); stack('kafka-up'); stack('es-up'); });

const RATE = 150;

test('under steady load, kill -9 each service, the broker and Elasticsearch in turn: nothing lost, nothing duplicated', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-kill-'));
  const load = new LoadWriter(path.join(dir, 'access.json.log'), 100);
  hook = await startWebhookReceiver();
  pipeline = await startPipeline(dir, load.file, { detectors: 2, webhook: hook.url });
  const p = pipeline;
  load.start(RATE);
  await waitUntil(async () => (await p.count('events').catch(() => 0)) > RATE * 3, 60_000, 'the pipeline flowing');

  const recovery: Record<string, number> = {};
  /** Time from the restart until every line written before the kill is indexed. */
  const caughtUp = async (what: string, restartedAt: number, before: number) => {
    await waitUntil(async () => (await p.count('events').catch(() => 0)) >= before, 180_000, `${what}: catching up to ${before}`);
    recovery[what] = Date.now() - restartedAt;
  };
  const services: Array<[ServiceName, number]> = [['collector', 0], ['normalizer', 0], ['detector', 1], ['indexer', 0], ['alerter', 0]];
  for (const [name, instance] of services) {
    await p.procs.get(`${name}${instance}`)!.stop('SIGKILL');
    const before = load.written;
    await new Promise((r) => setTimeout(r, 2_000));
    const restarted = Date.now();
    await p.start(name, instance);
    await caughtUp(name, restarted, before);
  }
  for (const [what, down, up] of [['kafka', 'kafka-kill', 'kafka-up'], ['elasticsearch', 'es-kill', 'es-up']] as const) {
    stack(down);
    const before = load.written;
    await new Promise((r) => setTimeout(r, 5_000));
    const restarted = Date.now();
    stack(up);
    await caughtUp(what, restarted, before);
  }
  load.stop();

  const total = load.written;
  await waitUntil(async () => (await p.count('events')) >= total, 180_000, `all ${total} events indexed`);
  const { body } = await p.es.search({
    index: `podwatch-events-${p.namespace}-*`,
    body: { size: 0, aggs: { dup: { terms: { field: 'http.request.id', min_doc_count: 2, size: 10 } }, ids: { cardinality: { field: 'http.request.id', precision_threshold: 40000 } } } },
  });
  assert.equal(await p.count('events'), total, 'every line is exactly one document');
  assert.deepEqual(body.aggregations.dup.buckets, [], 'no request indexed twice');

  // Alerts: one container-exec alert per exec line, one notification per alert group, under one id.
  const alertCount = async () => {
    await p.es.indices.refresh({ index: `podwatch-alerts-${p.namespace}-*` });
    const { body: b } = await p.es.count({ index: `podwatch-alerts-${p.namespace}-*`, body: { query: { term: { 'rule.id': 'container-exec' } } } });
    return b.count as number;
  };
  await waitUntil(async () => (await alertCount()) === load.execs, 120_000, `${load.execs} exec alerts indexed`);
  const keys = () => {
    const byGroup = new Map<string, Set<string>>();
    for (const r of hook!.accepted()) {
      const n = JSON.parse(r.body) as Notification;
      if (n.rule.id !== 'container-exec') continue;
      byGroup.set(n.group.key, (byGroup.get(n.group.key) ?? new Set()).add(n.id));
    }
    return byGroup;
  };
  await waitUntil(() => keys().size === load.execs, 120_000, `${load.execs} exec notifications (have ${keys().size})`);
  assert.ok([...keys().values()].every((s) => s.size === 1), 'no alert notified twice under different ids');
  const repeats = hook.accepted().length - new Set(hook.accepted().map((r) => r.headers['idempotency-key'])).size;
  const other = (await p.count('alerts')) - load.execs;
  process.stdout.write(`# kill -9 under ${RATE} lines/s: ${total} lines, ${load.execs} exec alerts, ${repeats} notifications repeated under their own key, ${other} other alerts\n`);
  process.stdout.write(`# recovery (restart → every line written before the kill indexed), ms: ${JSON.stringify(recovery)}\n`);
});
