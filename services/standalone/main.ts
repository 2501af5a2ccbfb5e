import fs from 'node:fs';
import path from 'node:path';
import type { Config, SourceConfig } from '../../schemas/config.ts';
import type { Alert } from '../../schemas/alert.ts';
import type { DeliveryTask, Notification } from '../../schemas/notification.ts';
import { createChannels } from '../common/channels/index.ts';
import { Dispatcher, type Outcome } from '../common/dispatcher.ts';
import { Grouper, type GroupState } from '../alerter/grouping.ts';
import { Mutes } from '../alerter/mutes.ts';
import { activeMute, route } from '../alerter/routing.ts';
import { Collector } from '../collector/collector.ts';
import { createElasticsearch, whenElasticsearchReady } from '../common/elasticsearch.ts';
import { writeFileDurably } from '../common/durable-file.ts';
import { errorMessage } from '../common/errors.ts';
import { LocalStore } from '../common/local-store.ts';
import { indexAll, type Doc } from '../indexer/bulk.ts';
import { installTemplates, type Layout } from '../indexer/templates.ts';
import { parseConfig } from '../common/config.ts';
import { startOpsServer } from '../common/http.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { createMetrics } from '../common/metrics.ts';
import { onShutdown } from '../common/shutdown.ts';
import type { Sink } from '../common/sink.ts';
import { DetectionEngine, enabledDetectors, type StateEntry } from '../detector/engine.ts';
import { normalize, normalizeContext } from '../normalizer/normalize.ts';
import { Heartbeat, sourceState, type SourceStatus } from '../scheduler/heartbeat.ts';
import { JobRunner } from '../scheduler/jobs.ts';
import { checkEndpoints } from '../scheduler/posture.ts';
import { accessReview, localAccessReview, reviewFindings, reviewNotification, type AccessReview } from '../scheduler/review.ts';
import { fieldValue } from '../../detectors/lib/field.ts';
import type { EcsEvent } from '../../schemas/event.ts';

/** Where a single Podman host usually keeps what Podwatch reads, when no sources are configured. */
export function defaultSources(): SourceConfig[] {
  const sources: SourceConfig[] = [
    { type: 'file', name: 'nginx-access', paths: ['/var/log/nginx/podman-access.log', '/var/log/nginx/access.log'], format: 'auto' },
    { type: 'file', name: 'nginx-error', paths: ['/var/log/nginx/podman-error.log', '/var/log/nginx/error.log'], format: 'nginx-error' },
    { type: 'file', name: 'podman-events', paths: ['/var/lib/containers/storage/events/events.log', '/run/libpod/events/events.log'], format: 'podman-event' },
  ];
  const journal = ['/run/log/journal', '/var/log/journal'].some((d) => fs.existsSync(d) && fs.readdirSync(d).length > 0);
  if (journal) {
    sources.push({ type: 'journald', name: 'podman-journal', matches: ['SYSLOG_IDENTIFIER=podman', '_SYSTEMD_UNIT=podman.service', '_SYSTEMD_UNIT=podman.socket'], journalctl: 'journalctl', format: 'auto' });
  }
  return sources;
}

/** Where standalone keeps events and alerts: Elasticsearch when configured, else the local NDJSON store. */
interface Store { add(kind: 'events' | 'alerts', doc: { '@timestamp': string; event: { id: string } }): void; flush(): Promise<void> }

class ElasticsearchStore implements Store {
  private docs: Doc[] = [];
  constructor(private readonly client: ReturnType<typeof createElasticsearch>, private readonly layout: Layout, private readonly logger: Logger, private readonly metrics: ReturnType<typeof createMetrics>) {}
  add(kind: 'events' | 'alerts', doc: { '@timestamp': string; event: { id: string } }): void {
    this.docs.push({ index: this.layout.target(kind, new Date(doc['@timestamp']).toISOString()), id: kind === 'alerts' ? (doc as unknown as Alert).alert.id : doc.event.id, source: JSON.stringify(doc) });
  }
  async flush(): Promise<void> {
    const docs = this.docs;
    this.docs = [];
    for (const r of await indexAll(this.client, docs, this.logger, this.metrics)) this.logger.error({ id: r.doc.id, reason: r.reason }, 'Elasticsearch rejected a document');
  }
}

/** The access review from where the events are, and where past reviews are kept. */
interface Reviews { build(toMs: number): Promise<AccessReview>; save(r: AccessReview): Promise<void> }

async function openStore(cfg: Readonly<Config>, logger: Logger, metrics: ReturnType<typeof createMetrics>): Promise<{ store: Store; where: string; reviews: Reviews }> {
  const ar = cfg.scheduler.access_review;
  if (!cfg.elasticsearch) {
    const local = new LocalStore(cfg.store);
    const dir = path.join(cfg.store.dir, 'reviews');
    return {
      store: { add: (k, d) => local.add(k, d), flush: async () => local.flush() },
      where: `local store ${cfg.store.dir} (${cfg.store.retention_days} days)`,
      reviews: {
        build: (toMs) => localAccessReview(cfg.store.dir, ar, toMs),
        save: async (r) => { fs.mkdirSync(dir, { recursive: true }); writeFileDurably(path.join(dir, `${r.id}.json`), JSON.stringify(r)); },
      },
    };
  }
  const ns = cfg.elasticsearch.namespace;
  const client = createElasticsearch(cfg.elasticsearch);
  const layout = await whenElasticsearchReady(cfg.elasticsearch, logger, 'installing index templates', () => installTemplates(client, ns, cfg.indexer, logger));
  return {
    store: new ElasticsearchStore(client, layout, logger, metrics),
    where: `Elasticsearch ${cfg.elasticsearch.url}`,
    reviews: {
      build: (toMs) => accessReview(client, ns, ar, toMs),
      save: async (r) => { await client.index({ index: `podwatch-reviews-${ns}`, id: r.id, body: r }); },
    },
  };
}

interface Snapshot { states: Array<[string, StateEntry]>; alerts: string[]; groups?: Array<[string, GroupState]>; pending?: DeliveryTask[]; seen?: Array<[string, number]>; silent?: Array<[string, number]> }

/**
 * The stages in-process: each record the collector reads is normalized, run through the
 * detectors, and its alerts grouped and delivered (or parked for retry) before the collector's
 * checkpoint moves past it. Detector state, alert groups and parked deliveries are snapshotted to
 * disk (at once when a notification went out), so a restart loses nothing and repeats no alert.
 */
class InProcessPipeline implements Sink {
  readonly engine: DetectionEngine;
  private readonly ctx;
  private readonly stateFile: string;
  private readonly deadFile: string;
  private lastSnapshot = Date.now();
  private readonly seenAlerts = new Set<string>();
  private readonly grouper: Grouper;
  private readonly dispatcher: Dispatcher;
  private readonly mutes: Mutes;
  private pending: DeliveryTask[] = [];
  private readonly queue: Array<{ value?: string; work?: () => Promise<void>; onAck: () => void }> = [];
  private draining = false;
  private waiters: Array<() => void> = [];
  private readonly retryTimer: NodeJS.Timeout;
  /** Acknowledgements of processed records, released once a snapshot holds their effects. */
  private unacked: Array<() => void> = [];
  private snapshotTimer: NodeJS.Timeout | undefined;
  /** Heartbeat: the newest event time of each configured source, and the silences being reported. */
  private readonly lastSeen = new Map<string, number>();
  readonly heartbeat: Heartbeat;
  private readonly startedAt = Date.now();

  constructor(private readonly cfg: Readonly<Config>, private readonly logger: Logger, private readonly metrics: ReturnType<typeof createMetrics>, private readonly store: Store) {
    this.ctx = normalizeContext(cfg.normalizer);
    this.engine = new DetectionEngine(enabledDetectors(cfg));
    this.grouper = new Grouper(cfg.alerter.grouping);
    this.dispatcher = new Dispatcher(createChannels(cfg.alerter), cfg.alerter.retry, logger.child({ component: 'dispatcher' }), metrics);
    this.mutes = new Mutes(cfg.alerter, logger);
    this.heartbeat = new Heartbeat(cfg.scheduler.heartbeat, 'since Podwatch started');
    this.stateFile = path.join(cfg.collector.checkpoint_dir, 'detector-state.json');
    this.deadFile = path.join(cfg.collector.checkpoint_dir, 'dead-notifications.ndjson');
    try {
      const saved = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as Snapshot;
      for (const [k, v] of saved.states) this.engine.states.set(k, v);
      for (const a of saved.alerts) this.seenAlerts.add(a);
      for (const [k, v] of saved.groups ?? []) this.grouper.groups.set(k, v);
      this.pending = saved.pending ?? [];
      for (const [k, v] of saved.seen ?? []) this.lastSeen.set(k, v);
      for (const [k, v] of saved.silent ?? []) this.heartbeat.silentSince.set(k, v);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ err: (err as Error).message }, 'detector state snapshot unreadable; starting empty');
    }
    this.retryTimer = setInterval(() => this.enqueue(() => this.retryDue()), 1000);
  }

  get hasCapacity(): boolean { return this.queue.length < 10_000; }

  waitForCapacity(): Promise<void> {
    return this.hasCapacity ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  push(_key: string, value: string, onAck: () => void): void {
    this.queue.push({ value, onAck });
    if (!this.draining) void this.drain();
  }

  /** Timer work (retries, closing quiet groups) runs between records, never beside one. */
  private enqueue(work: () => Promise<void>): void {
    this.queue.push({ work, onAck: () => undefined });
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.queue.length) {
      const batch = this.queue.splice(0, 500);
      for (const item of batch) {
        if (item.work) await item.work(); else await this.process(item.value!);
      }
      // Everything these records caused is stored and delivered (or parked) before the collector
      // may checkpoint past them, and the detector state they changed is on disk: acknowledgements
      // wait for the next snapshot (at most a second), so a kill -9 never leaves a checkpoint ahead
      // of the state (a burst straddling the crash still counts every failure).
      await this.store.flush();
      for (const item of batch) this.unacked.push(item.onAck);
      if (Date.now() - this.lastSnapshot >= 1000) this.snapshot();
      if (this.waiters.length && this.hasCapacity) for (const w of this.waiters.splice(0)) w();
    }
    if (this.unacked.length && !this.snapshotTimer) {
      this.snapshotTimer = setTimeout(() => { this.snapshotTimer = undefined; this.enqueue(async () => this.snapshot()); }, Math.max(0, 1000 - (Date.now() - this.lastSnapshot)));
    }
    this.draining = false;
  }

  private async process(value: string): Promise<void> {
    const out = normalize(value, this.ctx);
    if (!out.ok) {
      this.metrics.counter('podwatch_normalizer_dead_letters_total', 'Records that could not be normalized', ['component']).inc({ component: out.dead.component ?? 'none' });
      this.logger.debug({ reason: out.dead.reason }, 'record not normalized');
      return;
    }
    this.store.add('events', out.event);
    this.noteSource(out.event);
    for (const alert of this.engine.process(out.event)) await this.emit(alert);
  }

  /** Remembers the newest event time of every heartbeat source this event belongs to. */
  private noteSource(e: EcsEvent): void {
    for (const src of this.cfg.scheduler.heartbeat.sources) {
      if (!Object.entries(src.match).every(([f, v]) => String(fieldValue(e, f)) === v)) continue;
      const at = Date.parse(e['@timestamp']);
      if (at > (this.lastSeen.get(src.name) ?? -Infinity)) this.lastSeen.set(src.name, at);
    }
  }

  /**
   * Each configured source's silence, as the scheduler computes it from the index. A source not
   * seen since this process started counts from the start, so a restart is no false alarm.
   */
  sourceStatuses(nowMs: number): SourceStatus[] {
    return this.cfg.scheduler.heartbeat.sources.map((src) => sourceState(src.name, 'source', this.lastSeen.get(src.name), src.max_silence_ms, nowMs, this.startedAt));
  }

  /** Alerts raised by the jobs go the way detector alerts go: stored, grouped, delivered; between records. */
  raise(alerts: readonly Alert[]): Promise<void> {
    return this.betweenRecords(async () => { for (const a of alerts) await this.emit(a); });
  }

  /** A report (the access review) to its channels and the console, between records; retries are kept like alerts'. */
  report(n: Notification, channels: readonly string[]): Promise<void> {
    return this.betweenRecords(() => this.deliver(n, [...new Set([...channels, 'console'])]));
  }

  /** Runs work in the record queue, then snapshots what it changed. */
  private betweenRecords(work: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue(async () => {
      try {
        await work();
        this.snapshot();
        resolve();
      } catch (err) { reject(err); }
    }));
  }

  private async emit(a: Alert): Promise<void> {
    // After a crash the collector re-reads at most one batch; alerts already handled are not repeated.
    if (this.seenAlerts.has(a.alert.id)) return;
    this.seenAlerts.add(a.alert.id);
    this.store.add('alerts', a);
    if (this.seenAlerts.size > 100_000) this.seenAlerts.delete(this.seenAlerts.values().next().value!);
    this.metrics.counter('podwatch_detector_alerts_total', 'Alerts produced', ['detector']).inc({ detector: a.rule.id });
    this.logger.info({ alert: { id: a.alert.id, rule: a.rule.id, severity: a.alert.severity, entity: a.alert.entity } }, 'alert');
    const channels = this.channelsFor(a);
    if (activeMute(this.mutes.list(), a, Date.now())) return;
    const { notifications } = this.grouper.accept(a, Date.now());
    for (const n of notifications) await this.deliver(n, channels);
    if (notifications.length) this.snapshot();
  }

  /** Standalone always prints to the console as well as the routed channels. */
  private channelsFor(a: Alert): string[] {
    return [...new Set([...route(this.cfg.alerter, a), 'console'])];
  }

  private async deliver(n: Notification, channels: readonly string[]): Promise<void> {
    await this.settle(await this.dispatcher.deliver(n, channels));
  }

  private async settle(outcomes: Outcome[]): Promise<void> {
    for (const o of outcomes) {
      if (o.status === 'retry') this.pending.push(o.task);
      if (o.status !== 'dead') continue;
      this.logger.error({ channel: o.channel, notification: o.task.notification.id, attempts: o.task.attempt, err: o.task.last_error, file: this.deadFile }, 'gave up delivering a notification; it is kept in the dead-notifications file');
      fs.appendFileSync(this.deadFile, `${JSON.stringify(o.task)}\n`);
      const notice = this.dispatcher.unhealthyNotice(o.task, this.cfg.alerter.grouping.realert_ms);
      if (notice) await this.deliver(notice.notification, notice.channels);
    }
  }

  private async retryDue(): Promise<void> {
    const now = Date.now();
    const due = this.pending.filter((t) => Date.parse(t.next_at) <= now);
    const summaries = this.grouper.sweep(now);
    if (!due.length && !summaries.length) return;
    this.pending = this.pending.filter((t) => Date.parse(t.next_at) > now);
    for (const t of due) await this.settle([await this.dispatcher.attempt({ ...t, attempt: t.attempt + 1 })]);
    for (const n of summaries) if (n.alert) await this.deliver(n, this.channelsFor(n.alert));
    this.snapshot();
  }

  /** Writes state, groups and parked deliveries atomically, then releases the acknowledgements it covers. */
  snapshot(): void {
    this.engine.expire();
    fs.mkdirSync(path.dirname(this.stateFile), { recursive: true });
    const snap: Snapshot = {
      states: [...this.engine.states], alerts: [...this.seenAlerts], groups: [...this.grouper.groups], pending: this.pending,
      seen: [...this.lastSeen], silent: [...this.heartbeat.silentSince],
    };
    writeFileDurably(this.stateFile, JSON.stringify(snap));
    this.engine.dirty.clear();
    this.lastSnapshot = Date.now();
    const acks = this.unacked;
    this.unacked = [];
    for (const ack of acks) ack();
  }

  close(): void {
    clearInterval(this.retryTimer);
    clearTimeout(this.snapshotTimer);
    for (const c of this.dispatcher.channels.values()) c.close?.();
  }

  idle(): Promise<void> {
    return new Promise((resolve) => { const check = () => (this.draining ? setTimeout(check, 20) : resolve()); check(); });
  }
}

/**
 * The scheduler's jobs in-process: the source heartbeat (configured `scheduler.heartbeat.sources`,
 * from the events this process saw), the API posture check, and the access review over the
 * store (Elasticsearch or the local one), kept beside the events and sent to its channels.
 */
async function startJobs(cfg: Readonly<Config>, pipeline: InProcessPipeline, reviews: Reviews, logger: Logger, metrics: ReturnType<typeof createMetrics>): Promise<JobRunner | undefined> {
  const s = cfg.scheduler;
  // When each job last really ran (not skipped or missed), so runs due while Podwatch was down are made up for.
  const historyFile = path.join(cfg.collector.checkpoint_dir, 'jobs.json');
  let lastStarts: Record<string, string> = {};
  try {
    if (fs.existsSync(historyFile)) lastStarts = JSON.parse(fs.readFileSync(historyFile, 'utf8')) as Record<string, string>;
  } catch (err) {
    logger.warn({ file: historyFile, err: errorMessage(err) }, 'cannot read the job history; runs missed while Podwatch was down are not checked');
  }
  const runner = new JobRunner(s.timezone, logger.child({ component: 'jobs' }), metrics, async (r) => {
    logger.info({ job: r.job, outcome: r.outcome, findings: r.findings.length, ms: r.duration_ms }, r.summary);
    if (r.outcome === 'skipped_overlap' || r.outcome === 'missed') return;
    lastStarts = { ...lastStarts, [r.job]: r.started };
    fs.mkdirSync(path.dirname(historyFile), { recursive: true });
    writeFileDurably(historyFile, JSON.stringify(lastStarts));
  });
  if (s.heartbeat.enabled && s.heartbeat.sources.length) {
    runner.add('heartbeat', s.heartbeat.schedule, async (runId) => {
      const sources = pipeline.sourceStatuses(Date.now());
      await pipeline.raise(pipeline.heartbeat.evaluate(sources, [], Date.now(), runId).alerts);
      const silent = sources.filter((x) => x.silent);
      return { summary: `${sources.length} sources, ${silent.length} silent${silent.length ? ` (${silent.map((x) => x.name).join(', ')})` : ''}`, findings: silent };
    });
  }
  if (s.posture.enabled && s.posture.endpoints.length) {
    runner.add('posture', s.posture.schedule, async (runId) => {
      const { summary, findings, alerts } = await checkEndpoints(s.posture.endpoints, s.posture.timeout_ms, runId);
      await pipeline.raise(alerts);
      return { summary, findings };
    });
  }
  if (s.access_review.enabled) {
    runner.add('access_review', s.access_review.schedule, async () => {
      const r = await reviews.build(Date.now());
      await reviews.save(r);
      const n = reviewNotification(r, cfg.host.name!);
      await pipeline.report(n, s.access_review.channels ?? cfg.alerter.default_channels);
      return { summary: n.summary, findings: reviewFindings(r) };
    });
  }
  if (!runner.tasks.size) return undefined;
  await runner.catchUp(async (job) => (lastStarts[job] ? new Date(lastStarts[job]) : undefined));
  return runner;
}

/** `podwatch run --standalone`: the whole pipeline in one process for a single Podman host. */
export async function main(loaded: Readonly<Config>): Promise<void> {
  const cfg = loaded.collector.sources.length ? loaded : parseConfig({ ...structuredClone(loaded), collector: { ...structuredClone(loaded.collector), sources: defaultSources() } });
  const logger = createLogger('standalone', cfg.log.level);
  const metrics = createMetrics('standalone');
  const { store, where, reviews } = await openStore(cfg, logger, metrics);
  const pipeline = new InProcessPipeline(cfg, logger, metrics, store);
  const collector = new Collector(cfg, pipeline, metrics, logger);
  await collector.start();
  const jobs = await startJobs(cfg, pipeline, reviews, logger, metrics);
  const ar = cfg.scheduler.access_review;
  if (!cfg.elasticsearch && ar.enabled && cfg.store.retention_days <= ar.dormant_days) {
    logger.warn({ retention_days: cfg.store.retention_days, dormant_days: ar.dormant_days }, 'the local store forgets events before an identity counts as dormant: the access review cannot list dormant identities; raise store.retention_days');
  }
  // Standalone runs beside other things on one host: a taken metrics port must not stop it.
  const ops = await startOpsServer(metrics, () => ({ ok: true }), { host: cfg.collector.http.host, port: cfg.collector.http.port ?? 9464 })
    .catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err;
      logger.warn({ port: cfg.collector.http.port ?? 9464 }, 'metrics port in use; serving metrics on a free port instead');
      return startOpsServer(metrics, () => ({ ok: true }), { host: cfg.collector.http.host, port: 0 });
    });
  const watching = cfg.collector.sources.map((s) => (s.type === 'file' ? `${s.name}: ${s.paths.join(', ')}` : `${s.name}: journald ${s.matches.join(' + ')}`));
  onShutdown(logger, async () => {
    // Stop reading, finish what was read, snapshot (which releases its acknowledgements), then
    // write the collector's final checkpoints: they never run ahead of the state.
    await jobs?.stop();
    await collector.stop();
    await pipeline.idle();
    pipeline.snapshot();
    collector.close();
    pipeline.close();
    await ops.close();
  });
  // Announced once SIGTERM is handled: a signal before that would kill the process outright.
  logger.info({ store: where, sources: watching, jobs: [...(jobs?.tasks.keys() ?? [])], detectors: enabledDetectors(cfg).map((d) => d.detector.meta.id), checkpoints: cfg.collector.checkpoint_dir, metricsPort: ops.port }, 'standalone Podwatch started');
  process.stderr.write(`Podwatch (standalone) is watching:\n${watching.map((w) => `  - ${w}`).join('\n')}\nEvents and alerts are kept in ${where}.\nAlerts are printed here${cfg.alerter.channels.length ? ` and sent to ${cfg.alerter.channels.map((c) => c.name).join(', ')}` : ''}${jobs ? `; jobs: ${[...jobs.tasks.keys()].join(', ')}` : ''}; metrics on http://${cfg.collector.http.host}:${ops.port}/metrics\n`);
}
