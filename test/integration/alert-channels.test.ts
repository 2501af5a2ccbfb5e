import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Notification } from '../../schemas/notification.ts';
import { parseConfig } from '../../services/common/config.ts';
import { createChannels } from '../../services/common/channels/index.ts';
import { DeliveryError } from '../../services/common/channels/channel.ts';
import { Grouper } from '../../services/alerter/grouping.ts';
import { testAlert } from '../../services/alerter/test-alerts.ts';
import { startSmtpSink } from '../helpers/mail.ts';
import { spawnPodwatch } from '../helpers/process.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-channels-'));
// The mail server's certificate for 127.0.0.1, from the lab's test CA; Podwatch trusts it through ca_file.
const pki = path.join(dir, 'pki');
execFileSync('bash', [fileURLToPath(new URL('../lab/pki.sh', import.meta.url)), pki]);
const serverTls = { cert: path.join(pki, 'server.crt'), key: path.join(pki, 'server.key') };
const caFile = path.join(pki, 'server-ca.crt');
const cleanup: Array<() => Promise<void>> = [];
after(async () => { for (const c of cleanup) await c(); });

/** A notification whose event values are hostile: markup, CR/LF header injection, Slack mentions. */
function hostileNotification(): Notification {
  const g = new Grouper({ by: ['rule.id', 'alert.entity.value'], window_ms: 60_000, realert_ms: 60_000 });
  const a = testAlert({ i: 1, atMs: Date.parse('2026-12-01T10:00:00Z'), rule: 'container-exec', user: 'mallory<!channel>', container: 'web<script>alert(1)</script>\r\nBcc: victim@example.com\r\n' });
  a.alert.summary = 'exec into web<script>alert(1)</script>\r\nBcc: victim@example.com by *mallory* <!here>';
  return g.accept(a, Date.now()).notifications[0]!;
}

test('email: STARTTLS with a verified certificate, AUTH with a password from a secret file, both parts, hostile values escaped', async () => {
  const sink = await startSmtpSink(path.join(dir, 'mail'), { user: 'podwatch', pass: 's3cret-pass', tls: serverTls });
  cleanup.push(() => sink.stop());
  fs.writeFileSync(path.join(dir, 'smtp-pass'), 's3cret-pass\n');
  const cfg = parseConfig({
    alerter: {
      smtp: { host: '127.0.0.1', port: sink.port, security: 'starttls', username: 'podwatch', password_file: path.join(dir, 'smtp-pass'), ca_file: caFile, from: 'Podwatch <podwatch@example.org>' },
      channels: [{ type: 'email', name: 'soc', to: ['soc@example.org'] }],
    },
  });
  const n = hostileNotification();
  await createChannels(cfg.alerter).get('soc')!.send(n, 1);
  const [m] = await sink.messages();
  assert.ok(m, 'the message arrived');
  assert.match(m.raw, /^X-Test-Secure: true/m, 'sent after STARTTLS');
  assert.match(m.raw, /^X-Test-User: podwatch/m, 'authenticated');
  assert.equal(m.headers.get('bcc'), undefined, 'no header injected');
  assert.doesNotMatch(m.raw, /^Bcc:/im);
  assert.equal(m.messageId, `<${n.id}@podwatch>`);
  assert.equal(m.headers.get('x-podwatch-notification-id'), n.id);
  assert.equal(m.subject, '[Podwatch][HIGH] exec into web<script>alert(1)</script>\\r\\nBcc: victim@example.com by *mallory* <!here>');
  assert.ok(m.text?.includes('Container'), 'plain-text part');
  assert.ok(m.text?.includes('web<script>alert(1)</script>\\r\\nBcc: victim@example.com'), 'CR/LF shown, not obeyed');
  assert.ok(m.html, 'HTML part');
  assert.ok(!(m.html as string).includes('<script>'), 'no live markup in HTML');
  assert.ok((m.html as string).includes('web&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.deepEqual(m.to && !Array.isArray(m.to) ? m.to.value.map((v) => v.address) : [], ['soc@example.org']);
});

test('email: a wrong password is refused and reported as a delivery error', async () => {
  const sink = await startSmtpSink(path.join(dir, 'mail-auth'), { user: 'podwatch', pass: 'right' });
  cleanup.push(() => sink.stop());
  const cfg = parseConfig({ alerter: { smtp: { host: '127.0.0.1', port: sink.port, username: 'podwatch', password: 'wrong', reject_unauthorized: false }, channels: [{ type: 'email', name: 'soc', to: ['soc@example.org'] }] } });
  await assert.rejects(createChannels(cfg.alerter).get('soc')!.send(hostileNotification(), 1), (e: unknown) => e instanceof DeliveryError && /535|auth/i.test(e.message));
  assert.equal(sink.count(), 0);
});

test('email: implicit TLS (465-style) with a verified certificate; a certificate the CA did not sign is refused', async () => {
  const sink = await startSmtpSink(path.join(dir, 'mail-tls'), { user: 'podwatch', pass: 'right', secure: true, tls: serverTls });
  cleanup.push(() => sink.stop());
  const smtp = { host: '127.0.0.1', port: sink.port, security: 'tls', username: 'podwatch', password: 'right', ca_file: caFile };
  const channels = [{ type: 'email', name: 'soc', to: ['soc@example.org'] }];
  await createChannels(parseConfig({ alerter: { smtp, channels } }).alerter).get('soc')!.send(hostileNotification(), 1);
  const [m] = await sink.messages();
  assert.match(m!.raw, /^X-Test-Secure: true/m, 'TLS from the first byte');
  assert.match(m!.raw, /^X-Test-User: podwatch/m);
  // smtp-server's built-in certificate is not signed by our CA: nothing is sent, not even AUTH.
  const rogue = await startSmtpSink(path.join(dir, 'mail-rogue'), { user: 'podwatch', pass: 'right', secure: true });
  cleanup.push(() => rogue.stop());
  const send = createChannels(parseConfig({ alerter: { smtp: { ...smtp, port: rogue.port }, channels } }).alerter).get('soc')!.send(hostileNotification(), 1);
  await assert.rejects(send, (e: unknown) => e instanceof DeliveryError && /certificate/i.test(e.message));
  assert.equal(rogue.count(), 0);
});

/** The verification a receiver does (the README's snippet): HMAC over `timestamp.body`, constant-time compare, fresh timestamp. */
function verify(secret: string, headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const ts = String(headers['x-podwatch-timestamp']);
  const got = Buffer.from(String(headers['x-podwatch-signature']));
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
  return got.length === want.length && timingSafeEqual(got, want) && Math.abs(Date.now() / 1000 - Number(ts)) < 300;
}

test('webhook: documented payload, Idempotency-Key, HMAC signature that verifies, custom headers', async () => {
  const hook = await startWebhookReceiver();
  cleanup.push(() => hook.close());
  const secret = 'a-long-shared-webhook-secret';
  const cfg = parseConfig({ alerter: { channels: [{ type: 'webhook', name: 'hook', url: hook.url, secret, headers: { 'X-Team': 'soc' } }] } });
  const ch = createChannels(cfg.alerter).get('hook')!;
  const n = hostileNotification();
  await ch.send(n, 1);
  await ch.send(n, 2);
  const [first, second] = hook.requests;
  assert.ok(first && second);
  assert.ok(verify(secret, first.headers, first.body), 'signature verifies');
  assert.ok(!verify('another-secret-of-length', first.headers, first.body), 'a wrong secret does not verify');
  assert.ok(!verify(secret, first.headers, first.body.replace('mallory', 'mallorz')), 'a changed body does not verify');
  assert.equal(first.headers['idempotency-key'], n.id);
  assert.equal(second.headers['idempotency-key'], n.id, 'stable across redelivery');
  assert.equal(second.headers['x-podwatch-delivery-attempt'], '2');
  assert.equal(first.headers['x-team'], 'soc');
  assert.equal(first.headers['content-type'], 'application/json');
  const body = Notification.parse(JSON.parse(first.body));
  assert.equal(body.id, n.id);
  assert.equal(body.version, 1);
  assert.equal(body.alert?.container?.name, 'web<script>alert(1)</script>\r\nBcc: victim@example.com\r\n', 'JSON carries the value exactly; escaping is the receiver\'s format\'s job');
});

test('webhook presets: Slack blocks and a Teams Adaptive Card, text escaped for each', async () => {
  const hook = await startWebhookReceiver();
  cleanup.push(() => hook.close());
  const cfg = parseConfig({ alerter: { channels: [
    { type: 'webhook', name: 'slack', url: `${hook.url}/slack`, preset: 'slack' },
    { type: 'webhook', name: 'teams', url: `${hook.url}/teams`, preset: 'teams' },
  ] } });
  const channels = createChannels(cfg.alerter);
  const n = hostileNotification();
  await channels.get('slack')!.send(n, 1);
  await channels.get('teams')!.send(n, 1);
  const slack = JSON.parse(hook.requests.find((r) => r.path.endsWith('/slack'))!.body);
  assert.equal(typeof slack.text, 'string');
  assert.deepEqual(slack.blocks.map((b: { type: string }) => b.type), ['header', 'section', 'section', 'context']);
  assert.ok(slack.blocks[2].fields.length <= 10, 'Slack allows at most 10 fields');
  const slackText = JSON.stringify(slack);
  assert.ok(!slackText.includes('<!here>') && !slackText.includes('<!channel>') && !slackText.includes('<script>'), 'no Slack control sequences survive');
  assert.ok(slackText.includes('&lt;!here&gt;'));
  assert.ok(!/\r|\n(?!\S)/.test(slack.text));
  const teams = JSON.parse(hook.requests.find((r) => r.path.endsWith('/teams'))!.body);
  assert.equal(teams.type, 'message');
  const card = teams.attachments[0];
  assert.equal(card.contentType, 'application/vnd.microsoft.card.adaptive');
  assert.equal(card.content.type, 'AdaptiveCard');
  assert.equal(card.content.version, '1.4');
  assert.deepEqual(card.content.body.map((b: { type: string }) => b.type).slice(0, 3), ['TextBlock', 'TextBlock', 'FactSet']);
  const teamsText = JSON.stringify(card);
  assert.ok(!teamsText.includes('<script>') && !teamsText.includes('*mallory*'), 'markup and Markdown neutralised');
  assert.ok(teamsText.includes('\\\\*mallory\\\\*'));
});

test('webhook: 5xx and timeouts are retriable, 4xx is not', async () => {
  const hook = await startWebhookReceiver();
  cleanup.push(() => hook.close());
  const cfg = parseConfig({ alerter: { channels: [{ type: 'webhook', name: 'hook', url: hook.url, timeout_ms: 300 }] } });
  const ch = createChannels(cfg.alerter).get('hook')!;
  const n = hostileNotification();
  hook.setStatus(503);
  await assert.rejects(ch.send(n, 1), (e: unknown) => e instanceof DeliveryError && e.retriable && /503/.test(e.message));
  hook.setStatus(400);
  await assert.rejects(ch.send(n, 1), (e: unknown) => e instanceof DeliveryError && !e.retriable);
  hook.setStatus(200);
  hook.setDelay(1000);
  await assert.rejects(ch.send(n, 1), (e: unknown) => e instanceof DeliveryError && e.retriable && /300 ms/.test(e.message));
});

test('podwatch alert test --channel sends one test notification; an unknown channel is a clear error', async () => {
  const hook = await startWebhookReceiver();
  cleanup.push(() => hook.close());
  const file = path.join(dir, 'alert-test.yaml');
  fs.writeFileSync(file, stringify({ alerter: { channels: [{ type: 'webhook', name: 'hook', url: hook.url }] } }));
  const ok = spawnPodwatch(['alert', 'test', '--channel', 'hook', '--config', file]);
  assert.equal(await ok.stop('SIGCONT'), 0, ok.output());
  assert.equal(hook.requests.length, 1);
  assert.equal(JSON.parse(hook.requests[0]!.body).kind, 'test');
  const bad = spawnPodwatch(['alert', 'test', '--channel', 'nope', '--config', file]);
  assert.equal(await bad.stop('SIGCONT'), 64);
  assert.match(bad.output(), /no channel named nope \(configured: console, hook\)/);
  assert.doesNotMatch(bad.output(), /at .*\.ts:\d+/, 'no stack trace');
  hook.setStatus(500);
  const down = spawnPodwatch(['alert', 'test', '--channel', 'hook', '--config', file]);
  assert.equal(await down.stop('SIGCONT'), 1);
  assert.match(down.output(), /did not accept the test notification: HTTP 500/);
});
