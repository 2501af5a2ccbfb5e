import fs from 'node:fs';
import path from 'node:path';
import type { Config, SourceConfig } from '../../schemas/config.ts';
import type { Alert } from '../../schemas/alert.ts';
import { Collector } from '../collector/collector.ts';
import { parseConfig } from '../common/config.ts';
import { startOpsServer } from '../common/http.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { createMetrics } from '../common/metrics.ts';
import { onShutdown } from '../common/shutdown.ts';
import type { Sink } from '../common/sink.ts';
import { DetectionEngine, enabledDetectors, type StateEntry } from '../detector/engine.ts';
import { normalize, normalizeContext } from '../normalizer/normalize.ts';

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

/**
 * The stages in-process: each record the collector reads is normalized, run through the
 * detectors and its alerts printed before the collector's checkpoint moves past it. Detector
 * state is snapshotted to disk, so a restart loses nothing and repeats no alert.
 */
class InProcessPipeline implements Sink {
  readonly hasCapacity = true;
  readonly engine: DetectionEngine;
  private readonly ctx;
  private readonly stateFile: string;
  private lastSnapshot = Date.now();
  private readonly seenAlerts = new Set<string>();

  constructor(private readonly cfg: Readonly<Config>, private readonly logger: Logger, private readonly metrics: ReturnType<typeof createMetrics>) {
    this.ctx = normalizeContext(cfg.normalizer);
    this.engine = new DetectionEngine(enabledDetectors(cfg));
    this.stateFile = path.join(cfg.collector.checkpoint_dir, 'detector-state.json');
    try {
      const saved = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as { states: Array<[string, StateEntry]>; alerts: string[] };
      for (const [k, v] of saved.states) this.engine.states.set(k, v);
      for (const a of saved.alerts) this.seenAlerts.add(a);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ err: (err as Error).message }, 'detector state snapshot unreadable; starting empty');
    }
  }

  waitForCapacity(): Promise<void> { return Promise.resolve(); }

  push(_key: string, value: string, onAck: () => void): void {
    const out = normalize(value, this.ctx);
    if (!out.ok) {
      this.metrics.counter('podwatch_normalizer_dead_letters_total', 'Records that could not be normalized', ['component']).inc({ component: out.dead.component ?? 'none' });
      this.logger.debug({ reason: out.dead.reason }, 'record not normalized');
    } else {
      for (const alert of this.engine.process(out.event)) this.emit(alert);
    }
    // Everything this record caused is out before the collector may checkpoint past it.
    if (this.engine.dirty.size && Date.now() - this.lastSnapshot > 1000) this.snapshot();
    onAck();
  }

  private emit(a: Alert): void {
    // After a crash the collector re-reads at most one batch; alerts already printed are not repeated.
    if (this.seenAlerts.has(a.alert.id)) return;
    this.seenAlerts.add(a.alert.id);
    if (this.seenAlerts.size > 100_000) this.seenAlerts.delete(this.seenAlerts.values().next().value!);
    this.metrics.counter('podwatch_detector_alerts_total', 'Alerts produced', ['detector']).inc({ detector: a.rule.id });
    process.stdout.write(`[${a.alert.severity.toUpperCase()}] ${a['@timestamp']} ${a.rule.id}: ${a.alert.summary}\n`);
    this.logger.info({ alert: { id: a.alert.id, rule: a.rule.id, severity: a.alert.severity, entity: a.alert.entity } }, 'alert');
  }

  snapshot(): void {
    this.engine.expire();
    fs.mkdirSync(path.dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ states: [...this.engine.states], alerts: [...this.seenAlerts] }));
    fs.renameSync(tmp, this.stateFile);
    this.engine.dirty.clear();
    this.lastSnapshot = Date.now();
  }
}

/** `podwatch run --standalone`: the whole pipeline in one process for a single Podman host. */
export async function main(loaded: Readonly<Config>): Promise<void> {
  const cfg = loaded.collector.sources.length ? loaded : parseConfig({ ...structuredClone(loaded), collector: { ...structuredClone(loaded.collector), sources: defaultSources() } });
  const logger = createLogger('standalone', cfg.log.level);
  const metrics = createMetrics('standalone');
  const pipeline = new InProcessPipeline(cfg, logger, metrics);
  const collector = new Collector(cfg, pipeline, metrics, logger);
  await collector.start();
  // Standalone runs beside other things on one host: a taken metrics port must not stop it.
  const ops = await startOpsServer(metrics, () => ({ ok: true }), { host: cfg.collector.http.host, port: cfg.collector.http.port ?? 9464 })
    .catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err;
      logger.warn({ port: cfg.collector.http.port ?? 9464 }, 'metrics port in use; serving metrics on a free port instead');
      return startOpsServer(metrics, () => ({ ok: true }), { host: cfg.collector.http.host, port: 0 });
    });
  const watching = cfg.collector.sources.map((s) => (s.type === 'file' ? `${s.name}: ${s.paths.join(', ')}` : `${s.name}: journald ${s.matches.join(' + ')}`));
  logger.info({ sources: watching, detectors: enabledDetectors(cfg).map((d) => d.detector.meta.id), checkpoints: cfg.collector.checkpoint_dir, metricsPort: ops.port }, 'standalone Podwatch started');
  process.stderr.write(`Podwatch (standalone) is watching:\n${watching.map((w) => `  - ${w}`).join('\n')}\nAlerts are printed here; metrics on http://${cfg.collector.http.host}:${ops.port}/metrics\n`);
  onShutdown(logger, async () => {
    await collector.stop();
    collector.close();
    pipeline.snapshot();
    await ops.close();
  });
}
