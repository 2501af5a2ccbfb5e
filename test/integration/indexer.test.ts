import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import type { DeadLetter } from '../../schemas/dead-letter.ts';
import { fixture, variant } from '../../detectors/lib/test-helpers.ts';
import { createElasticsearch } from '../../services/common/elasticsearch.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { sendInOrder } from '../../services/common/kafka-stage.ts';
import { memoryLogger } from '../helpers/log.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stackConfig, uniq } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

let proc: Proc | undefined;
const namespace = uniq('ns').replace(/-/g, '_');
const cfg = stackConfig({ elasticsearch: { namespace } });
const es = createElasticsearch(cfg.elasticsearch!);
after(async () => {
  await proc?.stop('SIGKILL');
  await es.indices.delete({ index: `podwatch-*-${namespace}-*` }).catch(() => undefined);
  await es.close();
});

const count = async (kind: string) => {
  await es.indices.refresh({ index: `podwatch-${kind}-${namespace}-*` }).catch(() => undefined);
  const { body } = await es.count({ index: `podwatch-${kind}-${namespace}-*`, allow_no_indices: true });
  return body.count as number;
};

test('100,000 events in, 100,000 documents out; a replay changes nothing; an unmappable document is dead-lettered alone', async () => {
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['events', 'alerts', 'dlq']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-indexer-'));
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({ kafka: { brokers: cfg.kafka.brokers, topics: { ...cfg.kafka.topics } }, elasticsearch: { url: cfg.elasticsearch!.url, namespace }, indexer: { http: { port: 0 } } }));

  const base = fixture('container-exec', 'positive')[0]!;
  const total = 100_000;
  const values: string[] = [];
  for (let i = 0; i < total; i++) {
    const e = structuredClone(base) as any;
    e.event.id = `ev-${i}`;
    e['@timestamp'] = new Date(Date.UTC(2026, 11, 1 + (i % 3), 10, 0, 0, i % 1000)).toISOString();
    e.user.name = `user${i % 20}`;
    e.source.ip = `10.${i % 2 === 0 ? 1 : 2}.${(i >> 8) & 255}.${i & 255}`;
    values.push(JSON.stringify(e));
  }
  const producer = kafka.producer();
  await producer.connect();
  const sendAll = () => sendInOrder(producer, values.map((value) => ({ topic: cfg.kafka.topics.events, key: null, value })));
  await sendAll();
  // One document whose field has the wrong type for the mapping, in the middle of a batch.
  const bad = variant(base, 0, 'bad-1') as any;
  bad.http.response.status_code = 201;
  const badText = JSON.stringify(bad).replace('"status_code":201', '"status_code":"two hundred"');
  await producer.send({ topic: cfg.kafka.topics.events, acks: -1, messages: [{ value: values[0]! }, { value: badText }, { value: JSON.stringify(variant(base, 1, 'after-bad')) }] });
  const dlq = await followTopic(kafka, cfg.kafka.topics.dlq);

  proc = spawnPodwatch(['run', 'indexer', '--config', file]);
  await waitUntil(async () => (await count('events')) >= total + 1, 240_000, `${total + 1} documents`);
  await dlq.waitForCount(1, 30_000);
  const [dead] = dlq.json<DeadLetter>();
  assert.match(dead!.reason, /^Elasticsearch rejected the document: mapper_parsing_exception: failed to parse field \[http\.response\.status_code\]/);
  assert.equal(JSON.parse(dead!.original).event.id, 'bad-1');
  assert.equal(await count('events'), total + 1, 'every good document, including the one after the bad one');

  await sendAll();
  // Every replayed document comes back from Elasticsearch as a 409, counted as a duplicate.
  const duplicates = async () => Number(/podwatch_indexer_documents_total\{outcome="duplicate"[^}]*\} (\d+)/.exec(await fetch(`http://127.0.0.1:${/"metricsPort":(\d+)/.exec(proc!.output())![1]}/metrics`).then((r) => r.text()))?.[1] ?? 0);
  await waitUntil(async () => (await duplicates()) >= total, 240_000, 'the replay consumed');
  assert.equal(await count('events'), total + 1, 'a replay adds no document');
  assert.match(proc.output(), /no ILM \(no X-Pack\)/);
  await Promise.all([dlq.stop(), producer.disconnect()]);
});

test('podwatch search finds events by identity, source network (CIDR), operation and time range', async () => {
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const bin = fileURLToPath(new URL('../../bin/podwatch.js', import.meta.url));
  const env = { ...process.env, PODWATCH_ES_URL: cfg.elasticsearch!.url };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-search-')), 'c.yaml');
  fs.writeFileSync(file, stringify({ elasticsearch: { url: cfg.elasticsearch!.url, namespace } }));
  const search = (...args: string[]) => execFileSync(process.execPath, [bin, 'search', '--config', file, '--json', '--limit', '10000', ...args], { encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024 })
    .trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  let expected = 0;
  for (let i = 0; i < 100_000; i++) if (i % 20 === 3 && i % 3 === 1) expected++;
  const hits = search('user.name:user3 AND source.ip:"10.2.0.0/16" AND event.action:container.exec.create', '--since', '2026-12-02T00:00:00Z', '--until', '2026-12-02T23:59:59Z');
  assert.equal(hits.length, expected);
  assert.ok(hits.every((h) => h.user.name === 'user3' && h.source.ip.startsWith('10.2.') && h['@timestamp'].startsWith('2026-12-02')));
  assert.equal(search('source.ip:"10.9.0.0/16"').length, 0);
  // The table: the readable columns analysts expect.
  const table = execFileSync(process.execPath, [bin, 'search', '--config', file, '--limit', '2', 'user.name:user7'], { encoding: 'utf8', env });
  const [header, row] = table.split('\n');
  assert.match(header!, /^@timestamp\s+user\.name\s+source\.ip\s+event\.action\s+event\.outcome\s+container\.name$/);
  assert.match(row!, /user7\s+10\.2\.\d+\.\d+\s+container\.exec\.create\s+success\s+web/);
  // A bad query is the user's mistake: a clear message, no stack trace.
  let stderr = '';
  try { execFileSync(process.execPath, [bin, 'search', '--config', file, 'user.name:(('], { encoding: 'utf8', env, stdio: 'pipe' }); } catch (e) { stderr = (e as { stderr: string }).stderr; }
  assert.match(stderr, /^podwatch: Elasticsearch could not run the query: /);
  assert.doesNotMatch(stderr, /\n\s+at /);
});

test('podwatch alerts: recent alerts from the alerts index, --open keeps only those still active', async () => {
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const bin = fileURLToPath(new URL('../../bin/podwatch.js', import.meta.url));
  const { DetectionEngine, enabledDetectors } = await import('../../services/detector/engine.ts');
  const { parseConfig } = await import('../../services/common/config.ts');
  const now = Date.now();
  const fresh = variant(fixture('container-exec', 'positive')[0]!, 0, 'alert-fresh', (x) => { x['@timestamp'] = new Date(now - 60_000).toISOString(); });
  const old = variant(fixture('container-exec', 'positive')[0]!, 0, 'alert-old', (x) => { x['@timestamp'] = new Date(now - 3 * 3_600_000).toISOString(); x.user.name = 'bob'; });
  const alerts = [fresh, old].flatMap((e) => new DetectionEngine(enabledDetectors(parseConfig({}))).process(e)).filter((a) => a.rule.id === 'container-exec');
  const index = `podwatch-alerts-${namespace}-${new Date(now).toISOString().slice(0, 10).replace(/-/g, '.')}`;
  for (const a of alerts) await es.index({ index, id: a.alert.id, body: a, refresh: 'wait_for' });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-alerts-')), 'c.yaml');
  fs.writeFileSync(file, stringify({ elasticsearch: { url: cfg.elasticsearch!.url, namespace } }));
  const run = (...args: string[]) => execFileSync(process.execPath, [bin, 'alerts', '--config', file, '--json', ...args], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(run('--since', '1d').map((a) => a.user.name), ['alice', 'bob']);
  assert.deepEqual(run('--open').map((a) => a.user.name), ['alice']);
});

test('each namespace has its own templates and settings; the template every namespace shared before is removed', async () => {
  const { installTemplates, uninstallTemplates } = await import('../../services/indexer/templates.ts');
  // What versions before 2 installed: one template per kind for all namespaces (a lower priority
  // here only so it can coexist with the templates other tests install meanwhile).
  await es.indices.putIndexTemplate({ name: 'podwatch-alerts', body: { index_patterns: ['podwatch-alerts-*'], priority: 199, _meta: { managed_by: 'podwatch', version: 1 } } });
  const { logger } = memoryLogger('error');
  const spaces = [uniq('tpl').replace(/-/g, '_'), uniq('tpl').replace(/-/g, '_')];
  const refresh = ['2s', '7s'];
  try {
    // Both deployments start before either writes: the second must not change the first's settings.
    const layouts = [];
    for (const [i, ns] of spaces.entries()) layouts.push(await installTemplates(es, ns, { retention_days: 30, refresh_interval: refresh[i]! }, logger));
    for (const layout of layouts) {
      await es.index({ index: layout.target('events', '2026-12-04T10:00:00Z'), id: 'one', body: { '@timestamp': '2026-12-04T10:00:00Z', source: { ip: '10.0.0.1' } }, refresh: 'wait_for' });
    }
    for (const [i, ns] of spaces.entries()) {
      const { body } = await es.indices.getSettings({ index: `podwatch-events-${ns}-*` });
      const settings = Object.values(body as Record<string, { settings: { index: { refresh_interval?: string } } }>);
      assert.deepEqual(settings.map((x) => x.settings.index.refresh_interval), [refresh[i]], `${ns} keeps its own refresh interval`);
      const { body: mapping } = await es.indices.getMapping({ index: `podwatch-events-${ns}-*` });
      assert.equal((Object.values(mapping)[0] as any).mappings.properties.source.properties.ip.type, 'ip', 'the namespace template mapped the index');
    }
    const { statusCode } = await es.indices.getIndexTemplate({ name: 'podwatch-alerts' }, { ignore: [404] });
    assert.equal(statusCode, 404, 'the shared template is gone (removed by this install or a concurrent one)');
  } finally {
    for (const ns of spaces) {
      await es.indices.delete({ index: `podwatch-*-${ns}-*` }).catch(() => undefined);
      await uninstallTemplates(es, ns);
    }
  }
});
