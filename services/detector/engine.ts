import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Alert } from '../../schemas/alert.ts';
import type { Config, DetectorException } from '../../schemas/config.ts';
import type { EcsEvent } from '../../schemas/event.ts';
import { DETECTORS } from '../../detectors/index.ts';
import { ms, type Detector, type Finding } from '../../detectors/lib/types.ts';
import { ConfigError } from '../common/config.ts';
import { matchException } from './exceptions.ts';

export interface Enabled { detector: Detector; params: unknown; exceptions: readonly DetectorException[] }

/** The enabled detectors with validated parameters; a bad parameter is a ConfigError naming it. */
export function enabledDetectors(cfg: Pick<Config, 'detectors'>, only?: string): Enabled[] {
  const known = new Set(DETECTORS.map((d) => d.meta.id));
  for (const id of Object.keys(cfg.detectors)) {
    if (!known.has(id)) throw new ConfigError(`detectors.${id}: no such detector (known: ${[...known].join(', ')})`);
  }
  if (only && !known.has(only)) throw new ConfigError(`--detector ${only}: no such detector (known: ${[...known].join(', ')})`);
  return DETECTORS.filter((d) => (only ? d.meta.id === only : cfg.detectors[d.meta.id]?.enabled !== false)).map((detector) => {
    const settings = cfg.detectors[detector.meta.id];
    const r = detector.params.safeParse(settings?.params ?? {});
    if (!r.success) {
      const issues = r.error.issues.map((i) => `detectors.${detector.meta.id}.params${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`);
      throw new ConfigError(`invalid detector parameters:\n${issues.join('\n')}`);
    }
    return { detector, params: r.data, exceptions: settings?.exceptions ?? [] };
  });
}

export interface StateEntry { state: unknown; lastMs: number }

export interface EngineCounters {
  suppressed?: (detector: string, reason: string) => void;
  alert?: (detector: string) => void;
}

/**
 * Runs detectors over events and turns their findings into alerts: deterministic ids,
 * ATT&CK, exceptions. State lives in a map keyed `detector|key`; the caller persists the keys
 * reported in `dirty` (the worker's changelog) and may restore entries before processing.
 */
export class DetectionEngine {
  readonly states = new Map<string, StateEntry>();
  readonly dirty = new Set<string>();
  private watermark = 0;

  constructor(private readonly enabled: readonly Enabled[], private readonly counters: EngineCounters = {}, private readonly maxKeysPerDetector = 100_000) {}

  process(e: EcsEvent): Alert[] {
    const alerts: Alert[] = [];
    const t = ms(e);
    if (t > this.watermark) this.watermark = t;
    for (const { detector, params, exceptions } of this.enabled) {
      for (const key of detector.keys(e, params)) {
        const sk = `${detector.meta.id}|${key}`;
        const prev = this.states.get(sk);
        const { findings, state } = detector.detect(e, prev?.state, params, key);
        if (state === undefined) {
          if (prev) { this.states.delete(sk); this.dirty.add(sk); }
        } else {
          // Detectors may update their state in place, so any returned state counts as changed.
          this.states.set(sk, { state, lastMs: Math.max(t, prev?.lastMs ?? 0) });
          this.dirty.add(sk);
        }
        for (const f of findings) {
          const trigger = f.evidence[f.evidence.length - 1] ?? e;
          const ex = exceptions.length ? matchException(trigger, exceptions) : undefined;
          if (ex) { this.counters.suppressed?.(detector.meta.id, ex.reason); continue; }
          alerts.push(toAlert(detector, f));
          this.counters.alert?.(detector.meta.id);
        }
      }
    }
    return alerts;
  }

  /** Forgets state idle past its detector's TTL (by event time) and caps keys per detector. */
  expire(): string[] {
    const gone: string[] = [];
    const ttl = new Map(this.enabled.map((x) => [x.detector.meta.id, x.detector.ttlMs(x.params)]));
    const perDetector = new Map<string, Array<[string, number]>>();
    for (const [sk, entry] of this.states) {
      const id = sk.slice(0, sk.indexOf('|'));
      if (this.watermark - entry.lastMs > (ttl.get(id) ?? 0)) { this.states.delete(sk); gone.push(sk); continue; }
      const list = perDetector.get(id) ?? [];
      list.push([sk, entry.lastMs]);
      perDetector.set(id, list);
    }
    for (const list of perDetector.values()) {
      if (list.length <= this.maxKeysPerDetector) continue;
      list.sort((a, b) => a[1] - b[1]);
      for (const [sk] of list.slice(0, list.length - this.maxKeysPerDetector)) { this.states.delete(sk); gone.push(sk); }
    }
    for (const sk of gone) this.dirty.add(sk);
    return gone;
  }
}


/** The alert for a finding; its id is a hash of the detector and the evidence, so a replay repeats it exactly. */
export function toAlert(d: Detector, f: Finding): Alert {
  const ids = f.evidence.map((x) => x.event.id);
  const id = createHash('sha256').update(`${d.meta.id}\0${f.entity.type}:${f.entity.value}\0${ids.join('\0')}`).digest('hex').slice(0, 32);
  const first = f.evidence[0]!;
  const last = f.evidence[f.evidence.length - 1]!;
  const candidate = {
    '@timestamp': last['@timestamp'],
    event: { kind: 'alert', id },
    alert: {
      id,
      severity: f.severity ?? d.meta.severity,
      summary: f.summary,
      entity: f.entity,
      first_seen: first['@timestamp'],
      last_seen: last['@timestamp'],
      count: f.count,
      event_ids: ids,
      events: f.evidence.slice(0, 5),
    },
    rule: { id: d.meta.id, name: d.meta.title, description: d.meta.description },
    threat: { framework: 'MITRE ATT&CK', tactic: d.meta.tactic, technique: d.meta.technique },
    ...(last.user ? { user: { name: last.user.name } } : {}),
    ...(last.source?.ip ? { source: { ip: last.source.ip } } : {}),
    ...(last.container && (last.container.id || last.container.name) ? { container: { ...(last.container.id ? { id: last.container.id } : {}), ...(last.container.name ? { name: last.container.name } : {}) } } : {}),
  };
  const r = Alert.safeParse(candidate);
  // A detector that builds an invalid alert is a bug in that detector: fail loudly.
  if (!r.success) throw new Error(`detector ${d.meta.id} produced an invalid alert:\n${z.prettifyError(r.error)}`);
  return r.data;
}
