import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { DeadLetter } from '../../schemas/dead-letter.ts';
import type { DeliveryTask, Notification } from '../../schemas/notification.ts';
import { testAlert } from '../../services/alerter/test-alerts.ts';
import { alerterHarness } from '../helpers/alerter.ts';
import { startSmtpSink } from '../helpers/mail.ts';
import { waitUntil, type Proc } from '../helpers/process.ts';
import { followTopic } from '../helpers/topic.ts';
import { startWebhookReceiver, type Received } from '../helpers/webhook.ts';

const procs: Proc[] = [];
const closers: Array<() => Promise<unknown>> = [];
after(async () => { for (const p of procs) await p.stop('SIGKILL'); for (const c of closers) await c(); });

const T0 = Date.parse('2026-12-01T09:00:00Z');
const entities = (n: number, tag: string) => Array.from({ length: n }, (_, i) => testAlert({ i, atMs: T0 + i, entity: `${tag}-${i}` }));

/** Per alert group, the idempotency keys it was delivered under, and how often each body id matched its key. */
function keysByGroup(accepted: Received[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of accepted) {
    const n = JSON.parse(r.body) as Notification;
    assert.equal(r.headers['idempotency-key'], n.id, 'the key is the notification id');
    const set = out.get(n.group.key) ?? new Set<string>();
    set.add(n.id);
    out.set(n.group.key, set);
  }
  return out;
}

test('webhook answers 500 for 30 s, then recovers: every notification arrives, each under one key', async () => {
  const hook = await startWebhookReceiver();
  closers.push(() => hook.close());
  const h = await alerterHarness({ channels: [{ type: 'webhook', name: 'hook', url: hook.url }], default_channels: ['hook'], retry: { initial_ms: 500, max_ms: 4_000, give_up_ms: 600_000 } });
  closers.push(() => h.producer.disconnect());
  const retry = await followTopic(h.kafka, h.cfg.kafka.topics.retry);
  closers.push(() => retry.stop());
  const p = await h.start();
  procs.push(p);
  hook.setStatus(500);
  const down = Date.now();
  const alerts = entities(40, 'down');
  for (let i = 0; i < 4; i++) { await h.send(alerts.slice(i * 10, i * 10 + 10)); await new Promise((r) => setTimeout(r, 2_000)); }
  await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - down))));
  const failed = hook.requests.length;
  hook.setStatus(200);
  const up = Date.now();
  await waitUntil(() => keysByGroup(hook.accepted()).size === 40, 60_000, 'all 40 notifications accepted');
  const caughtUpMs = Date.now() - up;
  const keys = keysByGroup(hook.accepted());
  assert.ok([...keys.values()].every((s) => s.size === 1), 'no group delivered under two keys');
  assert.ok(failed >= 40, `every notification was tried while the receiver failed (${failed} attempts)`);
  assert.ok(retry.messages.length >= 40, 'parked deliveries went through the durable retry topic');
  assert.ok(retry.json<DeliveryTask>().some((t) => t.attempt >= 3), 'backoff retried more than once');
  const dup = hook.accepted().length - 40;
  process.stdout.write(`# webhook-500: ${failed} failed attempts in 30 s, ${retry.messages.length} retry records, all 40 delivered ${caughtUpMs} ms after recovery, ${dup} accepted twice\n`);
});

test('alerter killed -9 mid-delivery: after a restart nothing is lost; repeats carry the same key', async () => {
  const hook = await startWebhookReceiver();
  closers.push(() => hook.close());
  hook.setDelay(100);
  const h = await alerterHarness({ channels: [{ type: 'webhook', name: 'hook', url: hook.url }], default_channels: ['hook'] });
  closers.push(() => h.producer.disconnect());
  let p = await h.start();
  procs.push(p);
  await h.send(entities(60, 'kill'));
  await waitUntil(() => hook.accepted().length >= 15, 30_000, '15 deliveries');
  await p.stop('SIGKILL');
  const atKill = hook.accepted().length;
  p = await h.start();
  procs.push(p);
  await waitUntil(() => keysByGroup(hook.accepted()).size === 60, 60_000, 'all 60 notifications');
  await new Promise((r) => setTimeout(r, 1_500));
  const keys = keysByGroup(hook.accepted());
  assert.equal(keys.size, 60);
  assert.ok([...keys.values()].every((s) => s.size === 1), 'a repeated delivery uses the same idempotency key');
  assert.ok(hook.accepted().length - 60 <= 1, `at most the delivery in flight at the kill is repeated, not the batch (${hook.accepted().length - 60} repeated)`);
  process.stdout.write(`# alerter-kill: ${atKill} delivered before kill -9, ${hook.accepted().length - 60} repeated after restart (same keys)\n`);
});

test('SMTP down: retried, dead-lettered after give-up, channel-unhealthy to the other channels; a returning server delivers again', async () => {
  const port = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const a = s.address() as net.AddressInfo; s.close(() => resolve(a.port)); }); });
  const hook = await startWebhookReceiver();
  closers.push(() => hook.close());
  const h = await alerterHarness({
    smtp: { host: '127.0.0.1', port, security: 'none', timeout_ms: 2_000 },
    channels: [{ type: 'email', name: 'soc', to: ['soc@example.org'] }, { type: 'webhook', name: 'hook', url: hook.url }],
    default_channels: ['soc'],
    retry: { initial_ms: 300, max_ms: 1_500, give_up_ms: 8_000 },
  });
  closers.push(() => h.producer.disconnect());
  const dlq = await followTopic(h.kafka, h.cfg.kafka.topics.dlq);
  const retry = await followTopic(h.kafka, h.cfg.kafka.topics.retry);
  closers.push(() => dlq.stop(), () => retry.stop());
  const p = await h.start();
  procs.push(p);
  const started = Date.now();
  await h.send(entities(3, 'smtp'));
  await dlq.waitForCount(3, 40_000);
  const gaveUpMs = Date.now() - started;
  const letters = dlq.json<DeadLetter>();
  assert.deepEqual(letters.map((l) => l.component), ['soc', 'soc', 'soc']);
  assert.ok(letters.every((l) => /delivery to soc failed \d+ times/.test(l.reason)));
  assert.deepEqual(new Set(letters.map((l) => (JSON.parse(l.original) as DeliveryTask).notification.entity.value)), new Set(['smtp-0', 'smtp-1', 'smtp-2']), 'the notifications are kept whole');
  assert.ok(retry.json<DeliveryTask>().filter((t) => t.channel === 'soc').length >= 6, 'retried several times first');
  await waitUntil(() => hook.accepted().length >= 1, 10_000, 'channel-unhealthy on the webhook');
  await new Promise((r) => setTimeout(r, 1_000));
  const notices = hook.accepted().map((r) => JSON.parse(r.body) as Notification);
  assert.deepEqual(notices.map((n) => [n.kind, n.entity.value]), [['channel-unhealthy', 'soc']], 'one notice, not one per notification');
  assert.match(p.output(), /channel-unhealthy|Channel soc is not delivering/);

  const sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-smtp-back-')), { port });
  closers.push(() => sink.stop());
  await h.send([testAlert({ i: 9, atMs: T0, entity: 'smtp-back' })]);
  await waitUntil(() => sink.count() === 1, 30_000, 'mail once the server is back');
  process.stdout.write(`# smtp-down: gave up on 3 notifications after ${gaveUpMs} ms (give_up 8 s), ${retry.messages.length} retry records\n`);
});
