import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Config } from '../../schemas/config.ts';
import { createElasticsearch, type Client } from '../../services/common/elasticsearch.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { uninstallTemplates } from '../../services/indexer/templates.ts';
import { memoryLogger } from './log.ts';
import { spawnPodwatch, type Proc } from './process.ts';
import { stackConfig, uniq } from './stack.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/proxies/nginx-access.json.log', import.meta.url));

/**
 * Writes nginx JSON access-log lines (the real capture's shapes) at a steady rate: reads by 50
 * identities from allowed addresses, and every `execEvery`-th line an exec by a new identity,
 * each of which must become exactly one alert and one notification. Remembers when each exec
 * line was written, for detection latency.
 */
export class LoadWriter {
  written = 0;
  execs = 0;
  readonly execWrittenAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly read: Record<string, string>;
  private readonly exec: Record<string, string>;

  constructor(readonly file: string, private readonly execEvery = 100, private readonly tag = uniq('load')) {
    const lines = fs.readFileSync(FIXTURE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    this.read = lines[0]!;
    this.exec = lines.find((l) => l.request_method === 'POST' && l.request_uri!.endsWith('/exec'))!;
    fs.writeFileSync(file, '');
  }

  /** `n` lines now, in one append. */
  write(n: number): void {
    const out: string[] = [];
    const now = Date.now();
    for (let k = 0; k < n; k++) {
      const i = this.written++;
      const isExec = this.execEvery > 0 && i % this.execEvery === this.execEvery - 1;
      const r = { ...(isExec ? this.exec : this.read) };
      const t = (now + k * 0.01) / 1000;
      r.msec = t.toFixed(3);
      r.time = new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
      r.request_id = `${this.tag}-${String(i).padStart(10, '0')}`;
      r.upstream_reference_id = r.request_id;
      r.remote_addr = `10.${(i >> 8) & 255}.${i & 255}.9`;
      const who = isExec ? `exec-${this.tag}-${this.execs++}` : `user${i % 50}`;
      r.ssl_client_s_dn = `OU=ops,O=Podwatch Test,CN=${who}`;
      if (isExec) this.execWrittenAt.set(who, Date.now());
      out.push(JSON.stringify(r));
    }
    fs.appendFileSync(this.file, `${out.join('\n')}\n`);
  }

  /** Appends `perSecond` lines a second, in 20 slices. */
  start(perSecond: number): void {
    let owed = 0;
    this.timer = setInterval(() => {
      owed += perSecond / 20;
      const n = Math.floor(owed);
      owed -= n;
      if (n) this.write(n);
    }, 50);
  }

  stop(): void { if (this.timer) clearInterval(this.timer); }
}

export type ServiceName = 'collector' | 'normalizer' | 'detector' | 'alerter' | 'indexer';

export interface Pipeline {
  cfg: Readonly<Config>;
  file: string;
  es: Client;
  namespace: string;
  procs: Map<string, Proc>;
  kafka: ReturnType<typeof createKafka>;
  start(name: ServiceName, instance?: number, nodeArgs?: string[]): Promise<Proc>;
  /** Documents of a kind in this pipeline's indices (after a refresh). */
  count(kind: 'events' | 'alerts'): Promise<number>;
  stopAll(): Promise<void>;
  /** stopAll, then deletes this pipeline's indices and topics (the benchmark runs on a long-lived stack). */
  destroy(): Promise<void>;
}

/** Every service as its own process over the real stack, reading one access log. */
export async function startPipeline(dir: string, log: string, o: { detectors?: number; webhook: string; extra?: Record<string, unknown>; services?: ServiceName[]; nodeArgs?: string[] }): Promise<Pipeline> {
  const namespace = uniq('pipe').replace(/-/g, '_');
  const cfg = stackConfig({ elasticsearch: { namespace } });
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['raw', 'events', 'alerts', 'state', 'alerter_state', 'retry', 'dlq']);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({
    host: { name: 'load-host' },
    kafka: { brokers: cfg.kafka.brokers, group_prefix: cfg.kafka.group_prefix, topics: { ...cfg.kafka.topics } },
    elasticsearch: { url: cfg.elasticsearch!.url, namespace, request_timeout_ms: 10_000 },
    collector: { checkpoint_dir: path.join(dir, 'checkpoints'), start_at: 'beginning', poll_interval_ms: 100, sources: [{ type: 'file', name: 'nginx-access', paths: [log], format: 'nginx-json' }], http: { port: 0 } },
    normalizer: { local_timezone: 'UTC', http: { port: 0 } },
    detector: { http: { port: 0 } },
    indexer: { http: { port: 0 } },
    alerter: { channels: [{ type: 'webhook', name: 'hook', url: o.webhook }], default_channels: ['hook'], retry: { initial_ms: 500, max_ms: 5_000 }, http: { port: 0 } },
    ...o.extra,
  }));
  const es = createElasticsearch(cfg.elasticsearch!);
  const procs = new Map<string, Proc>();
  const p: Pipeline = {
    cfg, file, es, namespace, procs, kafka,
    async start(name, instance = 0, nodeArgs) {
      const args = [...(o.nodeArgs ?? []), ...(nodeArgs ?? [])];
      const proc = spawnPodwatch(['run', name, '--config', file], args.length ? { nodeArgs: args } : {});
      procs.set(`${name}${instance}`, proc);
      await proc.waitForOutput(new RegExp(`${name} started`), 120_000);
      return proc;
    },
    async count(kind) {
      const index = `podwatch-${kind}-${namespace}-*`;
      await es.indices.refresh({ index, allow_no_indices: true, ignore_unavailable: true } as never);
      const { body } = await es.count({ index, allow_no_indices: true, ignore_unavailable: true } as never);
      return (body as { count: number }).count;
    },
    async stopAll() { for (const proc of procs.values()) await proc.stop('SIGKILL'); await es.close(); },
    async destroy() {
      for (const proc of procs.values()) await proc.stop('SIGKILL');
      await es.indices.delete({ index: `podwatch-*-${namespace}-*` }).catch(() => undefined);
      await uninstallTemplates(es, namespace);
      await es.close();
      const admin = kafka.admin();
      await admin.connect();
      const topics = Object.values(cfg.kafka.topics).filter((v): v is string => typeof v === 'string');
      await admin.deleteTopics({ topics: (await admin.listTopics()).filter((x) => topics.includes(x)) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
  const wanted = new Set(o.services ?? ['indexer', 'alerter', 'detector', 'normalizer', 'collector']);
  for (const name of ['indexer', 'alerter'] as const) if (wanted.has(name)) await p.start(name);
  if (wanted.has('detector')) for (let i = 0; i < (o.detectors ?? 1); i++) await p.start('detector', i);
  if (wanted.has('normalizer')) await p.start('normalizer');
  if (wanted.has('collector')) await p.start('collector');
  return p;
}
