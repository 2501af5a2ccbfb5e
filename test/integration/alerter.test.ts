import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { DeadLetter } from '../../schemas/dead-letter.ts';
import type { Notification } from '../../schemas/notification.ts';
import { testAlert } from '../../services/alerter/test-alerts.ts';
import { alerterHarness } from '../helpers/alerter.ts';
import { waitUntil, type Proc } from '../helpers/process.ts';
import { followTopic } from '../helpers/topic.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

const procs: Proc[] = [];
const closers: Array<() => Promise<unknown>> = [];
after(async () => { for (const p of procs) await p.stop('SIGKILL'); for (const c of closers) await c(); });

const T0 = Date.parse('2026-12-01T09:00:00Z');

test('grouping over Kafka survives a restart: no repeated and no lost notification; routing and mutes apply', async () => {
  const hook = await startWebhookReceiver();
  closers.push(() => hook.close());
  const h = await alerterHarness({
    channels: [{ type: 'webhook', name: 'hook', url: hook.url }],
    routes: [{ match: { rule: ['auth-*'] }, channels: ['hook'] }],
    default_channels: ['console'],
    grouping: { window_ms: 3_600_000, realert_ms: 10_000 },
    mutes: [{ match: { entity: ['192.0.2.*'] }, until: '2099-01-01T00:00:00Z', by: 'alice', reason: 'scanner under test' }],
  });
  closers.push(() => h.producer.disconnect());
  const dlq = await followTopic(h.kafka, h.cfg.kafka.topics.dlq);
  closers.push(() => dlq.stop());
  let p = await h.start();
  procs.push(p);
  // Group G: ten alerts within 9 s (one notification); group H: one alert; a muted entity; an exec alert to the console.
  await h.send(Array.from({ length: 10 }, (_, i) => testAlert({ i, atMs: T0 + i * 1000 })));
  await h.send([testAlert({ i: 100, atMs: T0, entity: '198.51.100.7' }), testAlert({ i: 101, atMs: T0, entity: '192.0.2.1' }), testAlert({ i: 102, atMs: T0, rule: 'container-exec', entity: 'bob' })]);
  await h.producer.send({ topic: h.cfg.kafka.topics.alerts, acks: -1, messages: [{ key: 'x', value: '{"not":"an alert"}' }] });
  await waitUntil(() => hook.requests.length >= 2, 30_000, 'two notifications');
  await p.waitForOutput(/\[HIGH\] [^\n]*container-exec: Test alert 102/);
  await dlq.waitForCount(1);
  assert.equal(dlq.json<DeadLetter>()[0]!.reason, 'not a valid alert');
  assert.equal(await p.stop('SIGTERM'), 0);

  p = await h.start();
  procs.push(p);
  // Still inside realert (no notification), then the alert at +10 s re-notifies with the count since.
  await h.send(Array.from({ length: 5 }, (_, i) => testAlert({ i: 10 + i, atMs: T0 + 9_500 + i * 100 })));
  await h.send([testAlert({ i: 20, atMs: T0 + 10_000 })]);
  await waitUntil(() => hook.requests.length >= 3, 30_000, 'the re-notification');
  await new Promise((r) => setTimeout(r, 2000));
  const got = hook.requests.map((r) => JSON.parse(r.body) as Notification);
  assert.deepEqual(got.map((n) => [n.kind, n.entity.value, n.group.alerts, n.group.since_last]).sort(), [
    ['alert', '198.51.100.7', 1, 1],
    ['alert', '203.0.113.9', 1, 1],
    ['repeat', '203.0.113.9', 16, 15],
  ].sort());
  assert.equal(new Set(got.map((n) => n.id)).size, 3);
  assert.ok(!p.output().includes('192.0.2.1') && !JSON.stringify(got).includes('192.0.2.1'), 'the muted entity was not notified');
  const metrics = await fetch(`http://127.0.0.1:${/"metricsPort":(\d+)/.exec(p.output())![1]}/metrics`).then((r) => r.text());
  assert.match(metrics, /podwatch_alerter_suppressed_total\{channel="hook",reason="grouped"[^}]*\} 5/);
  assert.match(metrics, /podwatch_alerter_notifications_total\{channel="hook",outcome="sent"[^}]*\} 1/);
});
