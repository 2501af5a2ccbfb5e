// The real pipeline over the real Kafka and Elasticsearch of the local stack: each stage alone
// (events/s of one process = one core), end to end at maximum rate, detection latency at half
// that rate, peak RSS per service; beside reference upper bounds that need no Podwatch code
// (kcat producing the same lines, a raw _bulk of the same documents). Prints a table and JSON.
//   npm run bench            (BENCH_LINES=100000, BENCH_LATENCY_S=30)
//   BENCH_NODE_ARGS='--max-old-space-size=96' npm run bench   node flags for every service
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import type { Notification } from '../schemas/notification.ts';
import { parseConfig } from '../services/common/config.ts';
import { createElasticsearch } from '../services/common/elasticsearch.ts';
import { normalize, normalizeContext } from '../services/normalizer/normalize.ts';
import { installTemplates, uninstallTemplates } from '../services/indexer/templates.ts';
import { runStage } from '../services/common/kafka-stage.ts';
import { createMetrics } from '../services/common/metrics.ts';
import { memoryLogger } from '../test/helpers/log.ts';
import { LoadWriter, startPipeline, type Pipeline, type ServiceName } from '../test/helpers/pipeline.ts';
import { waitUntil } from '../test/helpers/process.ts';
import { uniq } from '../test/helpers/stack.ts';
import { startWebhookReceiver } from '../test/helpers/webhook.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const N = Number(process.env.BENCH_LINES ?? 100_000);
const LATENCY_S = Number(process.env.BENCH_LATENCY_S ?? 30);
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean);
const dist = path.join(root, 'dist/services/cli/main.js');
// The compiled build is what the image runs; fall back to the TypeScript sources through tsx.
if (fs.existsSync(dist)) process.env.PODWATCH_TEST_BIN = dist;
execFileSync('bash', [path.join(root, 'deploy/stack/stack.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-bench-'));
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const hook = await startWebhookReceiver();

async function topicTotal(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((a, o) => a + Number(o.high), 0);
}
async function committed(admin: Admin, group: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return (t?.partitions ?? []).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
}
/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return NaN; }
}
const stackPid = (name: string) => Number(fs.readFileSync(path.join(root, '.stack', `${name}.pid`), 'utf8'));
const pct = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN; };

// The input: N lines of the real nginx capture's shapes, an exec every 1,000 lines.
const input = new LoadWriter(path.join(work, 'input.json.log'), 1_000);
for (let i = 0; i < N; i += 10_000) input.write(Math.min(10_000, N - i));
log(`${N} lines written to ${input.file}`);

// ---- Each stage alone, in pipeline order, on the same input.
const stageRows: Array<{ stage: string; events: number; seconds: number; perSecond: number; perCpuSecond: number; peakRssMiB: number; peakAnonMiB: number }> = [];
const p: Pipeline = await startPipeline(path.join(work, 'stages'), input.file, { webhook: hook.url, services: [], nodeArgs });
const admin = p.kafka.admin();
await admin.connect();
const t = p.cfg.kafka.topics;
const prefix = p.cfg.kafka.group_prefix;
const stageDone: Record<Exclude<ServiceName, 'alerter'>, () => Promise<boolean>> = {
  collector: async () => (await topicTotal(admin, t.raw)) >= N,
  normalizer: async () => (await topicTotal(admin, t.events)) + (await topicTotal(admin, t.dlq)) >= N,
  detector: async () => (await committed(admin, `${prefix}-detector`, t.events)) >= N,
  indexer: async () => (await committed(admin, `${prefix}-indexer-events`, t.events)) >= N && (await p.count('events')) >= N,
};
// BENCH_PROFILE=<stage> writes that stage's CPU profile (node --cpu-prof) to BENCH_PROFILE_DIR.
const profiled = process.env.BENCH_PROFILE;
const profileDir = process.env.BENCH_PROFILE_DIR ?? path.join(root, '.tmp', 'profiles');
for (const stage of ['collector', 'normalizer', 'detector', 'indexer'] as const) {
  const proc = await p.start(stage, 0, stage === profiled ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : undefined);
  const t0 = Date.now();
  // CPU from here on: the stage's work, not its start-up. Events per CPU-second is events/s per core.
  const cpuStart = cpuSeconds(proc.child.pid);
  await waitUntil(stageDone[stage], 600_000, `${stage} through ${N}`);
  const seconds = (Date.now() - t0) / 1000;
  const perCpuSecond = Math.round(N / (cpuSeconds(proc.child.pid) - cpuStart));
  if (stage === profiled) { await proc.stop('SIGTERM'); log(`${stage} profile in ${profileDir}`); }
  const mem = { peakRssMiB: Math.round(proc.peakRssKiB() / 1024), peakAnonMiB: Math.round(proc.peakAnonKiB() / 1024) };
  stageRows.push({ stage, events: N, seconds, perSecond: Math.round(N / seconds), perCpuSecond, ...mem });
  log(`${stage}: ${Math.round(N / seconds)} events/s, ${perCpuSecond} events per CPU-second, peak RSS ${mem.peakRssMiB} MiB (own ${mem.peakAnonMiB} MiB)`);
}
if (profiled) {
  // A profiling run ends here: nothing else is measured, and no stage may outlive the benchmark.
  await admin.disconnect();
  await p.destroy();
  process.exit(0);
}
const alerter = await p.start('alerter');
await waitUntil(() => hook.accepted().length >= input.execs, 120_000, 'the exec notifications');
stageRows.push({ stage: 'alerter', events: input.execs, seconds: NaN, perSecond: NaN, perCpuSecond: NaN, peakRssMiB: Math.round(alerter.peakRssKiB() / 1024), peakAnonMiB: Math.round(alerter.peakAnonKiB() / 1024) });
await admin.disconnect();
for (const proc of p.procs.values()) await proc.stop('SIGKILL');

// ---- Reference upper bounds without Podwatch code.
const refs: Record<string, number> = {};
const kcat = ['kcat', 'kafkacat'].find((c) => spawnSync(c, ['-V']).status === 0);
if (kcat) {
  const topic = uniq('bench-kcat');
  // Same partitions as Podwatch's raw topic; the stack's broker does not create topics on first use.
  const a = p.kafka.admin();
  await a.connect();
  await a.createTopics({ topics: [{ topic, numPartitions: p.cfg.kafka.topics.partitions, replicationFactor: 1 }], waitForLeaders: true });
  await a.disconnect();
  const t0 = Date.now();
  const r = spawnSync(kcat, ['-P', '-b', p.cfg.kafka.brokers[0]!, '-t', topic, '-X', 'acks=all', '-X', 'linger.ms=20', '-l', input.file], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status === 0) refs.kcat_produce = Math.round(N / ((Date.now() - t0) / 1000));
  else log(`kcat failed: ${r.stderr}`);
} else log('kcat (Debian package kafkacat) not installed: no Kafka reference');
{
  // The floor kafkajs sets for any stage: the same consume → produce (acks=-1) → commit loop over the
  // N events, copying each unchanged, in this process. Its events per CPU-second bound every stage's.
  const copyTopic = uniq('bench-copy');
  const a = p.kafka.admin();
  await a.connect();
  await a.createTopics({ topics: [{ topic: copyTopic, numPartitions: p.cfg.kafka.topics.partitions, replicationFactor: 1 }], waitForLeaders: true });
  const producer = p.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const { logger } = memoryLogger('error');
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const copy = await runStage({
    kafka: p.kafka, producer, logger, metrics: createMetrics('bench'), name: 'copy', groupId: uniq('bench-copy'), topic: t.events,
    commitIntervalMs: p.cfg.kafka.commit_interval_ms,
    handle: (messages) => messages.map((m) => ({ topic: copyTopic, key: m.key?.toString() ?? null, value: m.value!.toString() })),
  });
  await waitUntil(async () => (await topicTotal(a, copyTopic)) >= N, 600_000, 'the kafkajs copy stage');
  const cpu = process.cpuUsage(cpu0);
  refs.kafkajs_copy = Math.round(N / ((Date.now() - t0) / 1000));
  refs.kafkajs_copy_per_cpu_second = Math.round(N / ((cpu.user + cpu.system) / 1e6));
  await copy.stop();
  await producer.disconnect();
  await a.deleteTopics({ topics: [copyTopic] }).catch(() => undefined);
  await a.disconnect();
}
{
  const cfg = parseConfig({ normalizer: { local_timezone: 'UTC' } });
  const ctx = normalizeContext(cfg.normalizer);
  const lines = fs.readFileSync(input.file, 'utf8').trim().split('\n');
  const docs = lines.map((line, i) => normalize(JSON.stringify({ id: `ref-${i}`, source: { type: 'file', name: 'bench', format: 'nginx-json' }, host: 'h', position: { offset: i }, line, collected_at: new Date().toISOString() }), ctx))
    .flatMap((o) => (o.ok ? [o.event] : []));
  const ns = uniq('ref').replace(/-/g, '_');
  const es = createElasticsearch(p.cfg.elasticsearch!);
  const layout = await installTemplates(es, ns, p.cfg.indexer, memoryLogger('error').logger);
  const bodies: string[] = [];
  for (let i = 0; i < docs.length; i += 1000) {
    bodies.push(`${docs.slice(i, i + 1000).flatMap((d) => [JSON.stringify({ create: { _index: layout.target('events', d['@timestamp']), _id: d.event.id } }), JSON.stringify(d)]).join('\n')}\n`);
  }
  const t0 = Date.now();
  for (const body of bodies) await es.bulk({ body });
  refs.es_bulk = Math.round(docs.length / ((Date.now() - t0) / 1000));
  await es.indices.delete({ index: `podwatch-*-${ns}-*` }).catch(() => undefined);
  await uninstallTemplates(es, ns);
  await es.close();
}
log(`references: ${JSON.stringify(refs)}`);
await p.destroy();

// ---- End to end at maximum rate: every service running, the whole file, first line to last document.
const e2e = await startPipeline(path.join(work, 'e2e'), input.file, { webhook: hook.url, services: ['indexer', 'alerter', 'detector', 'normalizer'], nodeArgs });
// Where the CPU goes end to end: CPU seconds of every process over the run, in µs per event.
const cpuPids = (): Record<string, number | undefined> => ({ ...Object.fromEntries([...e2e.procs].map(([k, proc]) => [k.replace(/0$/, ''), proc.child.pid])), kafka: stackPid('kafka'), elasticsearch: stackPid('elasticsearch') });
const e2eStart = Date.now();
const collectorProc = await e2e.start('collector');
const cpu0 = Object.fromEntries(Object.entries(cpuPids()).map(([k, pid]) => [k, k === 'collector' ? 0 : cpuSeconds(pid)]));
await waitUntil(async () => (await e2e.count('events')) >= N, 600_000, 'end to end');
const e2eSeconds = (Date.now() - e2eStart) / 1000;
const cpuPerEventUs = Object.fromEntries(Object.entries(cpuPids()).map(([k, pid]) => [k, Math.round(((cpuSeconds(pid) - cpu0[k]!) * 1e6) / N)]));
void collectorProc;
const e2eRate = Math.round(N / e2eSeconds);
const e2eRss = Object.fromEntries([...e2e.procs].map(([k, proc]) => [k.replace(/0$/, ''), Math.round(proc.peakRssKiB() / 1024)]));
const e2eAnon = Object.fromEntries([...e2e.procs].map(([k, proc]) => [k.replace(/0$/, ''), Math.round(proc.peakAnonKiB() / 1024)]));
await e2e.destroy();
log(`end to end: ${e2eRate} events/s`);

// ---- Detection latency at half the sustained maximum: line written → webhook received.
const rate = Math.max(100, Math.floor(e2eRate / 2));
const live = new LoadWriter(path.join(work, 'live.json.log'), 200);
const hook2 = await startWebhookReceiver();
const lat = await startPipeline(path.join(work, 'latency'), live.file, { webhook: hook2.url, nodeArgs });
live.start(rate);
await new Promise((r) => setTimeout(r, LATENCY_S * 1000));
live.stop();
await waitUntil(() => hook2.accepted().length >= live.execs, 120_000, 'every exec notification');
const latencies = hook2.accepted().map((r) => {
  const n = JSON.parse(r.body) as Notification;
  return r.at - (live.execWrittenAt.get(n.entity.value) ?? NaN);
}).filter((x) => Number.isFinite(x));
const latRss = Object.fromEntries([...lat.procs].map(([k, proc]) => [k.replace(/0$/, ''), Math.round(proc.peakRssKiB() / 1024)]));
const latAnon = Object.fromEntries([...lat.procs].map(([k, proc]) => [k.replace(/0$/, ''), Math.round(proc.peakAnonKiB() / 1024)]));
await lat.destroy();
await hook.close();
await hook2.close();

const result = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, build: process.env.PODWATCH_TEST_BIN ? 'dist (compiled)' : 'tsx', stack: 'Kafka 4.1.1 KRaft + Elasticsearch 7.10.2 on the same machine', lines: N, service_node_args: nodeArgs ?? [] },
  stages: stageRows,
  end_to_end: { events: N, seconds: e2eSeconds, perSecond: e2eRate, cpu_us_per_event: cpuPerEventUs, ratio_to_kcat: refs.kcat_produce ? +(e2eRate / refs.kcat_produce).toFixed(3) : null, ratio_to_es_bulk: +(e2eRate / refs.es_bulk!).toFixed(3), peakRssMiB: e2eRss, peakAnonMiB: e2eAnon },
  references: refs,
  ratios: Object.fromEntries(stageRows.filter((r) => Number.isFinite(r.perSecond)).map((r) => [r.stage, { to_kcat: refs.kcat_produce ? +(r.perSecond / refs.kcat_produce).toFixed(3) : null, to_es_bulk: +(r.perSecond / refs.es_bulk!).toFixed(3), per_cpu_second_to_kafkajs_copy: +(r.perCpuSecond / refs.kafkajs_copy_per_cpu_second!).toFixed(3) }])),
  detection_latency_ms: { rate_lines_per_s: rate, seconds: LATENCY_S, alerts: latencies.length, p50: pct(latencies, 0.5), p95: pct(latencies, 0.95), p99: pct(latencies, 0.99), max: Math.max(...latencies), peakRssMiB: latRss, peakAnonMiB: latAnon },
};
console.log(`machine: ${result.machine.cpus} × ${result.machine.model}, ${result.machine.memGiB} GiB, node ${result.machine.node}, services from ${result.machine.build}; ${result.machine.stack}`);
console.table(stageRows);
console.table([{ what: 'end to end (line → indexed)', perSecond: e2eRate }, ...Object.entries(refs).map(([what, perSecond]) => ({ what: `reference: ${what}`, perSecond }))]);
console.table([{ what: 'CPU µs per event, end to end', ...cpuPerEventUs }]);
console.table([{ what: 'peak RSS MiB, end to end', ...e2eRss }, { what: 'peak own (RssAnon) MiB, end to end', ...e2eAnon }, { what: 'peak RSS MiB, half rate', ...latRss }, { what: 'peak own (RssAnon) MiB, half rate', ...latAnon }]);
console.table([{ ...result.detection_latency_ms, peakRssMiB: undefined, peakAnonMiB: undefined }]);
console.log(JSON.stringify(result));
fs.rmSync(work, { recursive: true, force: true });
process.exit(0);
