import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import type { Alert } from '../../schemas/alert.ts';
import type { EcsEvent } from '../../schemas/event.ts';
import type { Notification } from '../../schemas/notification.ts';
import { createElasticsearch } from '../../services/common/elasticsearch.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { startLab, type Lab } from '../helpers/lab.ts';
import { memoryLogger } from '../helpers/log.ts';
import { startSmtpSink } from '../helpers/mail.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stackConfig, uniq } from '../helpers/stack.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

const PORT = 18643;
let lab: Lab | undefined;
const nets: Netns[] = [];
const procs: Proc[] = [];
const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  for (const c of closers) await c().catch(() => undefined);
  for (const n of nets) n.remove();
  lab?.stop();
});

interface Sent { who: string; from: string; method: string; path: string; status: string }

test('attack scenarios over the real pipeline: a quiet working day, then each attack raises its alert on the right channel', async () => {
  lab = startLab(PORT, { listenAll: true });
  const podmanEnv = { ...process.env, ...lab.env };
  execFileSync('podman', ['create', '--name', 'build-1', 'localhost/test-busybox', 'sleep', '600'], { env: podmanEnv, stdio: 'ignore' });
  execFileSync('podman', ['start', 'build-1'], { env: podmanEnv, stdio: 'ignore' });
  const office = createNetns('office', '10.77.1.2', '10.77.1.1');
  const outside = createNetns('outside', '198.51.100.7', '198.51.100.1');
  nets.push(office, outside);

  // Requests exactly as clients make them: curl with a client certificate (or none), from a
  // loopback address or from inside a namespace, to the real nginx in front of the real Podman.
  const sent: Sent[] = [];
  // A generous timeout: under the full suite both cores are busy and Podman answers slowly.
  function req(o: { who?: string; from?: string; ns?: Netns; method?: string; path: string; body?: string; extra?: string[] }): { status: string; body: string } {
    const host = o.ns ? o.ns.gateway : '127.0.0.1';
    const args = ['-sS', '--max-time', '30', '-w', '\n%{http_code}', '--cacert', `${lab!.pki}/server-ca.crt`, '--resolve', `localhost:${PORT}:${host}`];
    if (o.who) args.push('--cert', `${lab!.pki}/${o.who}.crt`, '--key', `${lab!.pki}/${o.who}.key`);
    if (o.from) args.push('--interface', o.from);
    if (o.method) args.push('-X', o.method);
    if (o.body) args.push('-H', 'Content-Type: application/json', '-d', o.body);
    args.push(...(o.extra ?? []), o.extra?.includes('--plain') ? '' : `https://localhost:${PORT}${o.path}`);
    const argv = ['curl', ...args.filter((a) => a !== '--plain' && a !== '')];
    const r = o.ns ? o.ns.exec(argv) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    const out = String(r.stdout ?? '');
    const status = out.slice(out.lastIndexOf('\n') + 1) || '000';
    sent.push({ who: o.who ?? '-', from: o.ns?.address ?? o.from ?? '127.0.0.1', method: o.method ?? 'GET', path: o.path, status });
    return { status, body: `${out.slice(0, out.lastIndexOf('\n'))}${String(r.stderr ?? '')}` };
  }
  const exec = (who: string, container: string, from: { from?: string; ns?: Netns }) => {
    const created = req({ who, ...from, method: 'POST', path: `/v4.0.0/libpod/containers/${container}/exec`, body: '{"Cmd":["id"],"AttachStdout":true}' });
    assert.equal(created.status, '201', created.body);
    const id = (JSON.parse(created.body) as { Id: string }).Id;
    const started = req({ who, ...from, method: 'POST', path: `/v4.0.0/libpod/exec/${id}/start`, body: '{"Detach":true}' });
    assert.equal(started.status, '200', started.body);
  };

  // The pipeline: five services as their own processes over the real Kafka and Elasticsearch.
  const namespace = uniq('attacks').replace(/-/g, '_');
  const cfg = stackConfig({ elasticsearch: { namespace } });
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['raw', 'events', 'alerts', 'state', 'alerter_state', 'retry', 'dlq']);
  const sink = await startSmtpSink(path.join(lab.dir, 'mail'));
  const hook = await startWebhookReceiver();
  closers.push(() => sink.stop(), () => hook.close());
  const file = path.join(lab.dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({
    host: { name: 'podman-host-1' },
    kafka: { brokers: cfg.kafka.brokers, group_prefix: cfg.kafka.group_prefix, topics: { ...cfg.kafka.topics } },
    elasticsearch: { url: cfg.elasticsearch!.url, namespace },
    collector: {
      checkpoint_dir: path.join(lab.dir, 'checkpoints'), start_at: 'beginning', poll_interval_ms: 100, http: { port: 0 },
      sources: [
        { type: 'file', name: 'nginx-access', paths: [path.join(lab.logs, 'access.json.log')], format: 'nginx-json' },
        { type: 'file', name: 'nginx-error', paths: [path.join(lab.logs, 'error.log')], format: 'nginx-error' },
        { type: 'file', name: 'podman-events', paths: [path.join(lab.dir, 'podman', 'events.log')], format: 'podman-event' },
      ],
    },
    normalizer: { local_timezone: 'UTC', partition_key: 'host', networks: [{ name: 'office', cidr: '10.77.1.0/24' }, { name: 'loopback', cidr: '127.0.0.0/8' }], http: { port: 0 } },
    detectors: {
      'unexpected-source-ip': { params: { allowed_networks: ['127.0.0.0/8', '10.77.1.0/24'] } },
      'container-exec': { exceptions: [{ reason: 'CI runs its tests inside build containers', match: [{ field: 'user.name', op: 'eq', values: ['ci-bot'] }, { field: 'container.name', op: 'glob', values: ['build-*'] }] }] },
    },
    detector: { http: { port: 0 } },
    indexer: { http: { port: 0 } },
    alerter: {
      smtp: { host: '127.0.0.1', port: sink.port, security: 'none' },
      channels: [{ type: 'email', name: 'soc-mail', to: ['soc@example.org'] }, { type: 'webhook', name: 'soc-hook', url: hook.url, secret: 'attack-scenario-webhook-secret' }],
      routes: [{ match: { min_severity: 'high' }, channels: ['soc-mail', 'soc-hook'] }],
      default_channels: ['soc-hook'],
      http: { port: 0 },
    },
  }));
  for (const service of ['indexer', 'alerter', 'detector', 'normalizer', 'collector']) {
    const p = spawnPodwatch(['run', service, '--config', file]);
    procs.push(p);
    await p.waitForOutput(new RegExp(`${service} started`));
  }
  const es = createElasticsearch(cfg.elasticsearch!);
  closers.push(() => es.close());
  const search = async <T>(kind: 'events' | 'alerts', query: object = { match_all: {} }): Promise<T[]> => {
    await es.indices.refresh({ index: `podwatch-${kind}-${namespace}-*`, allow_no_indices: true, ignore_unavailable: true } as never).catch(() => undefined);
    const { body } = await es.search({ index: `podwatch-${kind}-${namespace}-*`, allow_no_indices: true, ignore_unavailable: true, body: { size: 5000, query, sort: [{ '@timestamp': 'asc' }] } } as never);
    return (body as any).hits.hits.map((h: any) => h._source as T);
  };
  const accessEvents = () => search<EcsEvent>('events', { term: { 'event.dataset': 'nginx.access' } });

  // A normal working day: three identities from the allowed networks, reads, a container
  // lifecycle by CI, and CI's excepted exec into its build container.
  for (let round = 0; round < 3; round++) {
    const info = req({ who: 'alice', from: '127.0.0.10', path: '/v4.0.0/libpod/info' });
    assert.equal(info.status, '200', info.body);
    req({ who: 'alice', from: '127.0.0.10', path: '/v4.0.0/libpod/containers/json?all=true' });
    req({ who: 'alice', from: '127.0.0.10', path: '/v4.0.0/libpod/containers/web/json' });
    const list = req({ who: 'bob', ns: office, path: '/v1.41/containers/json' });
    assert.equal(list.status, '200', list.body);
    req({ who: 'bob', ns: office, path: '/v1.41/images/json' });
    req({ who: 'ci-bot', from: '127.0.0.11', path: '/v4.0.0/libpod/_ping' });
    req({ who: 'ci-bot', from: '127.0.0.11', path: '/v4.0.0/libpod/images/json' });
  }
  const created = req({ who: 'ci-bot', from: '127.0.0.11', method: 'POST', path: '/v4.0.0/libpod/containers/create', body: '{"name":"ci-job-1","image":"localhost/test-busybox","command":["sleep","5"]}' });
  assert.equal(created.status, '201', created.body);
  req({ who: 'ci-bot', from: '127.0.0.11', method: 'DELETE', path: '/v4.0.0/libpod/containers/ci-job-1?force=true' });
  exec('ci-bot', 'build-1', { from: '127.0.0.11' });
  const normalDay = sent.length;
  await waitUntil(async () => (await accessEvents()).length >= normalDay, 60_000, `the ${normalDay} normal-day requests indexed`);
  await new Promise((r) => setTimeout(r, 3_000));
  const quiet = await search<Alert>('alerts');
  assert.deepEqual(quiet.map((a) => `${a.rule.id} ${a.alert.entity.value}: ${a.alert.summary}`), [], 'the normal day raises no alert');
  assert.equal(hook.requests.length + sink.count(), 0, 'and notifies no one');

  // The attacks.
  for (let i = 0; i < 6; i++) req({ from: '127.0.0.20', path: '/v4.0.0/libpod/info' });                          // brute force: no certificate
  req({ who: 'mallory', from: '127.0.0.21', path: '/v4.0.0/libpod/info' });                                     // wrong-CA certificate
  exec('ci-bot', 'web', { from: '127.0.0.11' });                                                                  // exec into a container
  exec('bob', 'web', { ns: office });                                                                             // exec by an identity that never did one
  const outsider = req({ who: 'alice', ns: outside, path: '/v4.0.0/libpod/containers/json' });                  // from outside the allowed networks
  assert.equal(outsider.status, '200', outsider.body);
  req({ who: 'alice', from: '127.0.0.10', method: 'POST', path: '/v4.0.0/libpod/secrets/create?name=db-pass', body: '"s3cret"' });
  req({ who: 'alice', from: '127.0.0.10', path: '/v4.0.0/libpod/secrets/db-pass/json?showsecret=true' });        // secret read
  req({ who: 'bob', ns: office, path: '/v1.41/containers/web/archive?path=/etc' });                              // archive download
  req({ from: '127.0.0.22', path: '/v4.0.0/libpod/info', extra: ['--plain', `http://localhost:${PORT}/v4.0.0/libpod/info`] }); // plaintext
  req({ who: 'alice', from: '127.0.0.23', path: '/v4.0.0/libpod/info', extra: ['--tlsv1.0', '--tls-max', '1.0', '--ciphers', 'DEFAULT@SECLEVEL=0'] }); // TLS 1.0

  const expected: Array<[rule: string, entity: string, severity: string]> = [
    ['auth-failure-burst', '127.0.0.20', 'high'],
    ['auth-failure-burst', '127.0.0.21', 'medium'],
    ['container-exec', 'ci-bot', 'medium'],
    ['container-exec', 'bob', 'high'],
    ['unexpected-source-ip', '198.51.100.7', 'high'],
    ['sensitive-operation', 'alice', 'high'],
    ['sensitive-operation', 'bob', 'high'],
    ['plaintext-or-weak-tls', '127.0.0.22', 'medium'],
    ['plaintext-or-weak-tls', '127.0.0.23', 'medium'],
  ];
  const key = (a: Alert) => `${a.rule.id} ${a.alert.entity.value}`;
  await waitUntil(async () => { const got = new Set((await search<Alert>('alerts')).map(key)); return expected.every(([r, e]) => got.has(`${r} ${e}`)); }, 90_000, 'every expected alert indexed');
  await new Promise((r) => setTimeout(r, 4_000));
  const alerts = await search<Alert>('alerts');
  process.stdout.write(`# attacks: ${alerts.map((a) => `\n#   ${a.alert.severity} ${key(a)}: ${a.alert.summary}`).join('')}\n`);
  assert.deepEqual(alerts.map((a) => `${key(a)} ${a.alert.severity}`).sort(), expected.map((x) => x.join(' ')).sort(), 'exactly the expected alerts, no more');

  // Channels: high and critical to mail and webhook, the rest to the webhook only; one notification per alert group.
  await waitUntil(() => hook.accepted().length >= expected.length, 30_000, 'every notification on the webhook');
  await new Promise((r) => setTimeout(r, 2_000));
  const notes = hook.accepted().map((r) => JSON.parse(r.body) as Notification);
  assert.deepEqual(notes.map((n) => `${n.rule.id} ${n.entity.value} ${n.severity}`).sort(), expected.map((x) => x.join(' ')).sort());
  const mails = await sink.messages();
  const high = expected.filter(([, , s]) => s === 'high');
  assert.equal(mails.length, high.length, 'one mail per high alert group');
  for (const [r, e] of high) assert.ok(mails.some((m) => m.headers.get('x-podwatch-notification-id') === notes.find((n) => n.rule.id === r && n.entity.value === e)!.id), `mail for ${r} ${e}`);

  // Every request that reached HTTP is searchable with identity, source IP and operation.
  const events = await accessEvents();
  for (const s of sent.filter((x) => x.status !== '000')) {
    const hit = events.find((e) => e.source?.ip === s.from && e.url?.path === s.path.split('?')[0] && (s.who === '-' || s.who === 'mallory' ? !e.user : e.user?.name === s.who));
    assert.ok(hit, `indexed: ${s.who} ${s.from} ${s.method} ${s.path} (${s.status})`);
    if (s.status !== '400') assert.ok(hit.podman?.api?.operation, `operation for ${s.path}`);
  }
  process.stdout.write(`# attacks: ${sent.length} requests, ${events.length} access events indexed, ${alerts.length} alerts, ${notes.length} webhook notifications, ${mails.length} mails\n`);
});
