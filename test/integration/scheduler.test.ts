import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import type { Alert } from '../../schemas/alert.ts';
import { createElasticsearch } from '../../services/common/elasticsearch.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { installTemplates } from '../../services/indexer/templates.ts';
import { LocalStore } from '../../services/common/local-store.ts';
import { Heartbeat, consumerLag } from '../../services/scheduler/heartbeat.ts';
import { accessReview, localAccessReview } from '../../services/scheduler/review.ts';
import { SchedulerConfig } from '../../schemas/config.ts';
import { memoryLogger } from '../helpers/log.ts';
import { startSmtpSink } from '../helpers/mail.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stackConfig, uniq } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

const namespace = uniq('sched').replace(/-/g, '_');
const cfg = stackConfig({ elasticsearch: { namespace } });
const es = createElasticsearch(cfg.elasticsearch!);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-scheduler-'));
const procs: Proc[] = [];
const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  for (const c of closers) await c();
  await es.indices.delete({ index: `podwatch-*-${namespace}*` }).catch(() => undefined);
  await es.close();
});

const DAY = 86_400_000;
let seq = 0;
/** An indexed event as the normalizer would write it (only the fields the review reads). */
function ev(o: { agoMs: number; user?: string; ip: string; op?: string; risk?: string; container?: string; outcome?: string; auth?: boolean; dn?: string; notAfterInDays?: number; dataset?: string; host?: string }) {
  const at = new Date(Date.now() - o.agoMs).toISOString();
  return {
    '@timestamp': at,
    event: { kind: 'event', id: `seed-${seq++}`, category: o.auth ? ['authentication'] : ['api'], type: ['access'], outcome: o.outcome ?? 'success', action: o.op ?? 'container.list', dataset: o.dataset ?? 'nginx.access', module: 'podwatch' },
    source: { ip: o.ip },
    host: { name: o.host ?? 'podman-1' },
    observer: { type: 'proxy', product: 'nginx' },
    ...(o.user ? { user: { name: o.user } } : {}),
    ...(o.op ? { podman: { api: { operation: o.op, flavour: 'libpod', risk: o.risk ?? 'read' } } } : {}),
    ...(o.container ? { container: { name: o.container } } : {}),
    ...(o.dn ? { tls: { client: { not_after: new Date(Date.now() + o.notAfterInDays! * DAY).toISOString(), x509: { subject: { distinguished_name: o.dn, common_name: o.user } } } } } : {}),
  };
}

async function seed(docs: object[], kind: 'events' | 'alerts' = 'events'): Promise<void> {
  const body = docs.flatMap((d: any) => [{ create: { _index: `podwatch-${kind}-${namespace}-${d['@timestamp'].slice(0, 10).replace(/-/g, '.')}`, _id: d.event.id } }, d]);
  const { body: res } = await es.bulk({ body, refresh: 'wait_for' });
  assert.equal(res.errors, false, JSON.stringify(res.items.find((i: any) => i.create.error)));
}

test('access review over seeded events: identities, new and dormant ones, execs, expiring certificates; mailed and posted', async () => {
  await installTemplates(es, namespace, cfg.indexer, memoryLogger('error').logger);
  const aliceDn = 'CN=alice,O=Example';
  const events = [
    ev({ agoMs: 60 * DAY, user: 'alice', ip: '10.0.0.5', op: 'container.list' }),
    ...[1, 2, 3].map((d) => ev({ agoMs: d * DAY, user: 'alice', ip: '10.0.0.5', op: 'container.list', dn: aliceDn, notAfterInDays: 10 })),
    ev({ agoMs: 2 * DAY, user: 'alice', ip: '10.0.0.5', op: 'container.exec.create', risk: 'exec', container: 'web' }),
    ev({ agoMs: 1 * DAY, user: 'alice', ip: '10.0.0.6', op: 'container.exec.create', risk: 'exec', container: 'web' }),
    ev({ agoMs: 2 * DAY, user: 'bob', ip: '10.0.0.7', op: 'image.pull', risk: 'write', dn: 'CN=bob,O=Example', notAfterInDays: 200 }),
    ev({ agoMs: 45 * DAY, user: 'carol', ip: '10.0.0.8', op: 'container.list' }),
    ev({ agoMs: 10 * DAY, user: 'dave', ip: '10.0.0.9', op: 'container.list' }),
    ...[1, 2, 3, 4].map((i) => ev({ agoMs: DAY + i * 1000, ip: '203.0.113.9', auth: true, outcome: 'failure' })),
  ];
  const alerts = [{
    '@timestamp': new Date(Date.now() - DAY).toISOString(), event: { kind: 'alert', id: 'violation-1' }, rule: { id: 'authz-policy-violation', name: 'x' }, user: { name: 'bob' },
    alert: { id: 'violation-1', severity: 'high', summary: 'bob pulled an image', entity: { type: 'identity', value: 'bob' } },
  }];
  await seed(events);
  await seed(alerts, 'alerts');

  const now = Date.now();
  const r = await accessReview(es, namespace, cfg.scheduler.access_review, now);
  assert.deepEqual(r.identities.map((i) => i.name), ['alice', 'bob']);
  const alice = r.identities[0]!;
  assert.deepEqual([alice.events, alice.execs, alice.exec_containers, alice.source_ips.sort(), alice.by_risk], [5, 2, ['web'], ['10.0.0.5', '10.0.0.6'], { read: 3, exec: 2 }]);
  assert.deepEqual(r.new_identities, ['bob']);
  assert.deepEqual(r.dormant_identities.map((d) => [d.name, d.days_silent]), [['carol', 45]]);
  assert.deepEqual(r.expiring_certificates.map((c) => [c.subject, c.user, c.days_left]), [[aliceDn, 'alice', 9]]);
  assert.deepEqual(r.failed_authentications, [{ source_ip: '203.0.113.9', count: 4, identities: [] }]);
  assert.deepEqual(r.policy_violations, [{ user: 'bob', count: 1 }]);
  assert.deepEqual(r.totals, { events: 10, identities: 2, execs: 2, failed_authentications: 4, policy_violations: 1 });
  assert.deepEqual(r.previous, { events: 1, identities: 1, execs: 0, failed_authentications: 0, policy_violations: 0 });

  // Standalone without Elasticsearch: the same documents in the local store give the same review.
  const storeDir = path.join(dir, 'store');
  const local = new LocalStore({ dir: storeDir, retention_days: 365, max_file_mb: 16 });
  for (const e of events) local.add('events', e);
  for (const a of alerts) local.add('alerts', a);
  local.add('events', events[2]!);                    // a record replayed after a crash counts once
  local.flush();
  const fromStore = await localAccessReview(storeDir, cfg.scheduler.access_review, now);
  assert.deepEqual({ ...fromStore, generated_at: '' }, { ...r, generated_at: '' });

  // On demand from the command line, delivered to a real SMTP server and a webhook.
  const sink = await startSmtpSink(path.join(dir, 'mail'));
  const hook = await startWebhookReceiver();
  closers.push(() => sink.stop(), () => hook.close());
  const file = path.join(dir, 'review.yaml');
  fs.writeFileSync(file, stringify({
    elasticsearch: { url: cfg.elasticsearch!.url, namespace }, host: { name: 'podman-1' },
    alerter: { smtp: { host: '127.0.0.1', port: sink.port, security: 'none' }, channels: [{ type: 'email', name: 'soc', to: ['soc@example.org'] }, { type: 'webhook', name: 'hook', url: hook.url }] },
    scheduler: { access_review: { channels: ['soc', 'hook'] } },
  }));
  const cli = spawnPodwatch(['review', '--since', '7d', '--send', '--config', file]);
  assert.equal(await cli.stop('SIGCONT'), 0, cli.output());
  assert.match(cli.output(), /Identities:\n {2}identity=alice {2}events=5/);
  const [mail] = await sink.messages();
  assert.match(mail!.subject ?? '', /^\[Podwatch\]\[LOW\] Access review .* 2 identities, 2 exec sessions, 4 failed authentications, 1 new and 1 dormant identities, 1 certificates expiring/);
  assert.ok((mail!.html as string).includes('<h3>Dormant (revoke?)</h3><table'), 'HTML tables');
  assert.ok((mail!.html as string).includes('<td>carol</td>'));
  assert.ok(mail!.text?.includes('identity=carol'));
  const posted = JSON.parse(hook.requests[0]!.body);
  assert.equal(posted.kind, 'report');
  assert.deepEqual(posted.report.data.new_identities, ['bob']);

  // The same command on a single host without Elasticsearch reads the local store.
  const standalone = path.join(dir, 'standalone.yaml');
  fs.writeFileSync(standalone, stringify({ store: { dir: storeDir, retention_days: 365 }, host: { name: 'podman-1' } }));
  const local2 = spawnPodwatch(['review', '--since', '7d', '--json', '--config', standalone], { env: { PODWATCH_ES_URL: '' } });
  assert.equal(await local2.stop('SIGCONT'), 0, local2.output());
  const printed = JSON.parse(local2.output()) as typeof r;
  assert.deepEqual([printed.identities.map((i) => [i.name, i.events, i.execs]), printed.new_identities, printed.dormant_identities.map((d) => d.name), printed.totals],
    [[['alice', 5, 2], ['bob', 1, 0]], ['bob'], ['carol'], r.totals]);
});

test('scheduler service: a silent source alerts once and its return is noticed; runs and reviews are stored', async () => {
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['alerts']);
  const alerts = await followTopic(kafka, cfg.kafka.topics.alerts);
  closers.push(() => alerts.stop());
  const file = path.join(dir, 'scheduler.yaml');
  fs.writeFileSync(file, stringify({
    kafka: { brokers: cfg.kafka.brokers, group_prefix: cfg.kafka.group_prefix, topics: { ...cfg.kafka.topics } },
    elasticsearch: { url: cfg.elasticsearch!.url, namespace },
    scheduler: {
      access_review: { schedule: '*/20 * * * * *', channels: ['console'] },
      heartbeat: { schedule: '* * * * * *', sources: [{ name: 'edge-nginx', match: { 'event.dataset': 'nginx.access', 'host.name': 'edge-1' }, max_silence_ms: 6_000 }], host_max_silence_ms: 0 },
      http: { port: 0 },
    },
  }));
  const beat = async () => seed([ev({ agoMs: 0, user: 'ci-bot', ip: '10.0.0.20', op: 'container.list', host: 'edge-1' })]);
  await beat();
  const p = spawnPodwatch(['run', 'scheduler', '--config', file]);
  procs.push(p);
  await p.waitForOutput(/scheduler started/);
  const rules = () => alerts.json<Alert>().filter((a) => a.alert.entity.value === 'edge-nginx').map((a) => a.rule.id);
  // Steady: one event a second for 5 s, no alert (the limit is 6 s, so a slow refresh under load does not matter).
  for (let i = 0; i < 5; i++) { await new Promise((r) => setTimeout(r, 1000)); await beat(); }
  assert.deepEqual(rules(), []);
  // Silence: exactly one alert, not one per run (the job runs every second).
  await waitUntil(() => rules().length >= 1, 20_000, 'the silence alert');
  await new Promise((r) => setTimeout(r, 3_000));
  assert.deepEqual(rules(), ['source-silent']);
  await beat();
  await waitUntil(() => rules().length >= 2, 10_000, 'the recovery notice');
  await new Promise((r) => setTimeout(r, 1_500));
  assert.deepEqual(rules(), ['source-silent', 'source-resumed']);
  const silent = alerts.json<Alert>().find((a) => a.rule.id === 'source-silent')!;
  assert.equal(silent.threat.technique.id, 'T1562.006');
  assert.match(silent.alert.summary, /No events from edge-nginx for \d+ s/);

  await waitUntil(async () => {
    await es.indices.refresh({ index: `podwatch-jobs-${namespace}-*,podwatch-reviews-${namespace}` }).catch(() => undefined);
    const { body } = await es.count({ index: `podwatch-reviews-${namespace}`, allow_no_indices: true, ignore_unavailable: true } as never);
    return (body as { count: number }).count >= 1;
  }, 30_000, 'a stored review');
  const { body } = await es.search({ index: `podwatch-jobs-${namespace}-*`, body: { size: 0, aggs: { jobs: { terms: { field: 'job.keyword' }, aggs: { outcomes: { terms: { field: 'outcome.keyword' } } } } } } });
  const jobs = Object.fromEntries((body.aggregations.jobs.buckets as any[]).map((b) => [b.key, Object.fromEntries(b.outcomes.buckets.map((o: any) => [o.key, o.doc_count]))]));
  assert.ok(jobs.heartbeat?.ok >= 3 && jobs.heartbeat?.findings >= 1, JSON.stringify(jobs));
  assert.ok(jobs.access_review?.findings >= 1 || jobs.access_review?.ok >= 1, JSON.stringify(jobs));
  const metrics = await fetch(`http://127.0.0.1:${/"metricsPort":(\d+)/.exec(p.output())![1]}/metrics`).then((r) => r.text());
  assert.match(metrics, /podwatch_scheduler_runs_total\{job="heartbeat",outcome="findings"/);
});

test('scheduler service: a weekly review that fell due while it was down is reported missed and made up for at start', async () => {
  const ns = uniq('catchup').replace(/-/g, '_');
  closers.push(() => es.indices.delete({ index: `podwatch-*-${ns}*` }).catch(() => undefined));
  // The last review ran ten days ago: at least one Monday 07:00 has passed since.
  const last = new Date(Date.now() - 10 * DAY).toISOString();
  await es.index({ index: `podwatch-jobs-${ns}-${last.slice(0, 7).replace('-', '.')}`, id: 'access_review-old', refresh: 'wait_for', body: { job: 'access_review', run_id: 'access_review-old', '@timestamp': last, started: last, ended: last, duration_ms: 5, outcome: 'ok', summary: 'old', findings: [] } });
  const file = path.join(dir, 'catchup.yaml');
  fs.writeFileSync(file, stringify({
    kafka: { brokers: cfg.kafka.brokers, group_prefix: cfg.kafka.group_prefix, topics: { ...cfg.kafka.topics } },
    elasticsearch: { url: cfg.elasticsearch!.url, namespace: ns },
    scheduler: { access_review: { schedule: '0 7 * * 1', channels: ['console'] }, heartbeat: { enabled: false }, http: { port: 0 } },
  }));
  const p = spawnPodwatch(['run', 'scheduler', '--config', file]);
  procs.push(p);
  await p.waitForOutput(/scheduler started/);
  const runs = async () => {
    await es.indices.refresh({ index: `podwatch-jobs-${ns}-*` });
    const { body } = await es.search({ index: `podwatch-jobs-${ns}-*`, body: { size: 100, sort: [{ started: 'asc' }] } });
    return (body.hits.hits as Array<{ _source: { outcome: string; summary: string; run_id: string } }>).map((h) => h._source).filter((r) => r.run_id !== 'access_review-old');
  };
  await waitUntil(async () => (await runs()).some((r) => r.outcome === 'ok' || r.outcome === 'findings'), 30_000, 'the make-up review');
  const got = await runs();
  assert.deepEqual(got.map((r) => r.outcome), ['missed', 'ok']);
  assert.match(got[0]!.summary, /^(the run due at \S+ was|\d+ runs due from \S+ to \S+ were) missed while no scheduler was running$/);
  await p.stop('SIGTERM');
});

test('heartbeat over the real Kafka: a stage whose lag grows is stalled, a partition it never committed counts whole', async () => {
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  closers.push(() => producer.disconnect(), () => admin.disconnect());
  const topic = uniq('lag-events');
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const produce = (partition: number, n: number) => producer.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, i) => ({ partition, value: `m${i}` })) });
  for (const p of [0, 1, 2]) await produce(p, 10);
  const group = uniq('lag-detector');
  const idle = uniq('lag-indexer');
  // The stage committed 7 of partition 0's ten and all of partition 1's; partition 2 never.
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '7' }, { partition: 1, offset: '10' }] });
  const groups = [{ group, topic }, { group: idle, topic }, { group, topic: uniq('no-such-topic') }];
  assert.deepEqual(await consumerLag(admin, groups), [{ group, topic, lag: 3 + 0 + 10 }], 'a group that never committed and a missing topic are left out');

  const hb = new Heartbeat(SchedulerConfig.parse({ heartbeat: { max_consumer_lag: 10 } }).heartbeat);
  const rules = async (run: string) => hb.evaluate([], await consumerLag(admin, groups), Date.now(), run).alerts.map((a) => `${a.rule.id} ${a.alert.entity.value}`);
  assert.deepEqual(await rules('r1'), [], 'first sight: no trend yet');
  await produce(2, 5);
  assert.deepEqual(await rules('r2'), [`pipeline-stalled consumer group ${group}`], '13 → 18 behind, not shrinking');
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '10' }, { partition: 2, offset: '15' }] });
  assert.deepEqual(await rules('r3'), [], 'caught up');
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
});
