import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Alert } from '../../schemas/alert.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { searchLocal } from '../../services/common/local-store.ts';
import { memoryLogger } from '../helpers/log.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stackConfig } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

const procs: Proc[] = [];
after(async () => { for (const p of procs) await p.stop('SIGKILL'); });

/** 20 rounds of the real nginx capture, ten minutes apart, from varying identities and addresses. */
function makeLog(file: string): number {
  const lines = fs.readFileSync(fileURLToPath(new URL('../fixtures/proxies/nginx-access.json.log', import.meta.url)), 'utf8').trim().split('\n');
  const out: string[] = [];
  for (let k = 0; k < 20; k++) {
    lines.forEach((line, i) => {
      const r = JSON.parse(line) as Record<string, string>;
      const t = Number(r.msec) + k * 600;
      r.msec = t.toFixed(3);
      r.time = new Date(t * 1000).toISOString().replace('.000Z', '+00:00').replace(/\.\d{3}Z$/, '+00:00');
      r.remote_addr = k % 7 === 6 ? `198.51.100.${k}` : `10.0.${k % 3}.${i + 1}`;
      r.request_id = `${r.request_id!.slice(0, 24)}${String(k).padStart(8, '0')}`;
      if (r.ssl_client_s_dn) r.ssl_client_s_dn = r.ssl_client_s_dn.replace(/CN=(\w+)/, (_, cn: string) => `CN=${cn}${k % 4}`);
      out.push(JSON.stringify(r));
    });
  }
  fs.writeFileSync(file, `${out.join('\n')}\n`);
  return out.length;
}

test('standalone and distributed (collector, normalizer, detector over Kafka) raise the same alerts for the same input', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-parity-'));
  const log = path.join(dir, 'access.json.log');
  const lines = makeLog(log);
  const cfg = stackConfig();
  const common = {
    host: { name: 'parity-host' },
    normalizer: { partition_key: 'host', http: { port: 0 } },
    detectors: { 'unexpected-source-ip': { params: { allowed_networks: ['10.0.0.0/16'] } } },
  };
  const source = { type: 'file', name: 'nginx-access', paths: [log], format: 'nginx-json' };

  // Standalone: alerts land in the embedded store.
  const sa = path.join(dir, 'standalone.yaml');
  fs.writeFileSync(sa, stringify({ ...common, store: { dir: path.join(dir, 'store') }, collector: { checkpoint_dir: path.join(dir, 'cp-standalone'), start_at: 'beginning', sources: [source], http: { port: 0 } } }));
  const standalone = spawnPodwatch(['run', '--standalone', '--config', sa]);
  procs.push(standalone);
  await standalone.waitForOutput(/is watching/);
  await waitUntil(async () => (await searchLocal(path.join(dir, 'store'), ['events'], '', {}, 1)).total === lines, 60_000, `all ${lines} events stored`);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(await standalone.stop('SIGTERM'), 0);
  const local = (await searchLocal(path.join(dir, 'store'), ['alerts'], '', {}, 10_000)).hits as Alert[];

  // Distributed: three services as their own processes over the real Kafka.
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['raw', 'events', 'alerts', 'state', 'dlq']);
  const alerts = await followTopic(kafka, cfg.kafka.topics.alerts);
  const dist = path.join(dir, 'distributed.yaml');
  fs.writeFileSync(dist, stringify({
    ...common, kafka: { brokers: cfg.kafka.brokers, group_prefix: cfg.kafka.group_prefix, topics: { ...cfg.kafka.topics } },
    collector: { checkpoint_dir: path.join(dir, 'cp-distributed'), start_at: 'beginning', sources: [source], http: { port: 0 } },
    detector: { http: { port: 0 } },
  }));
  for (const service of ['detector', 'normalizer', 'collector']) {
    const p = spawnPodwatch(['run', service, '--config', dist]);
    procs.push(p);
    await p.waitForOutput(new RegExp(`${service} started`));
  }
  await waitUntil(() => alerts.messages.length >= local.length, 60_000, `${local.length} alerts over Kafka (have ${alerts.messages.length})`);
  await new Promise((r) => setTimeout(r, 3_000));
  await alerts.stop();
  const remote = alerts.json<Alert>();

  const ids = (as: Alert[]) => as.map((a) => `${a.rule.id} ${a.alert.entity.value} ${a.alert.id}`).sort();
  assert.ok(local.length >= 20, `a meaningful set of alerts (${local.length})`);
  assert.ok(new Set(local.map((a) => a.rule.id)).size >= 4, `several detectors fire: ${[...new Set(local.map((a) => a.rule.id))].join(', ')}`);
  assert.deepEqual(ids(remote), ids(local), 'same alerts, same ids');
  process.stdout.write(`# parity: ${lines} lines, ${local.length} alerts from ${new Set(local.map((a) => a.rule.id)).size} detectors, identical in both modes\n`);
});
