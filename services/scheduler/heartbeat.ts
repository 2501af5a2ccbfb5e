import type { Admin } from 'kafkajs';
import type { Alert } from '../../schemas/alert.ts';
import type { SchedulerConfig } from '../../schemas/config.ts';
import type { Client } from '../common/elasticsearch.ts';
import { searchTargets } from '../common/elasticsearch.ts';
import { partitionLags } from '../common/kafka.ts';
import { jobAlert } from './findings.ts';

const DAY = 86_400_000;

export interface SourceStatus { name: string; kind: 'source' | 'host'; last_seen?: string; silent_ms?: number; max_silence_ms: number; silent: boolean }
export interface LagStatus { group: string; topic: string; lag: number; previous?: number; stalled: boolean }

const human = (ms: number) => (ms >= 2 * 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);

/**
 * A source's silence: how long since `lastMs`, and whether that is longer than `maxMs`. With no
 * event at all it is silent, unless `neverSeenSinceMs` says since when nothing could have come
 * (a process that just started) and that is not yet longer than `maxMs`.
 */
export function sourceState(name: string, kind: SourceStatus['kind'], lastMs: number | null | undefined, maxMs: number, nowMs: number, neverSeenSinceMs?: number): SourceStatus {
  if (lastMs === null || lastMs === undefined) {
    return { name, kind, max_silence_ms: maxMs, silent: neverSeenSinceMs === undefined || nowMs - neverSeenSinceMs > maxMs };
  }
  const silentMs = nowMs - lastMs;
  return { name, kind, last_seen: new Date(lastMs).toISOString(), silent_ms: silentMs, max_silence_ms: maxMs, silent: silentMs > maxMs };
}

/** When each configured source and each collector host last delivered an event to the index. */
export async function sourceStatus(es: Client, ns: string, cfg: SchedulerConfig['heartbeat'], nowMs: number): Promise<SourceStatus[]> {
  const index = searchTargets(ns, ['events']);
  const since = new Date(nowMs - cfg.hosts_lookback_days * DAY).toISOString();
  const out: SourceStatus[] = [];
  const searches: object[] = [];
  for (const s of cfg.sources) {
    searches.push({ index }, { size: 0, query: { bool: { filter: [{ range: { '@timestamp': { gte: since } } }, ...Object.entries(s.match).map(([f, v]) => ({ term: { [f]: v } }))] } }, aggs: { last: { max: { field: '@timestamp' } } } });
  }
  if (cfg.host_max_silence_ms > 0) {
    searches.push({ index }, { size: 0, query: { range: { '@timestamp': { gte: since } } }, aggs: { hosts: { terms: { field: 'host.name', size: 1000 }, aggs: { last: { max: { field: '@timestamp' } } } } } });
  }
  if (!searches.length) return out;
  const { body } = await es.msearch({ body: searches, ignore_unavailable: true, allow_no_indices: true } as never);
  const responses = body.responses as Array<{ error?: { reason?: string }; aggregations?: any }>;
  cfg.sources.forEach((s, i) => {
    const r = responses[i]!;
    if (r.error) throw new Error(`heartbeat query for ${s.name} failed: ${r.error.reason}`);
    out.push(sourceState(s.name, 'source', r.aggregations?.last?.value, s.max_silence_ms, nowMs));
  });
  if (cfg.host_max_silence_ms > 0) {
    const r = responses[cfg.sources.length]!;
    for (const b of (r.aggregations?.hosts?.buckets ?? []) as Array<{ key: string; last: { value: number } }>) out.push(sourceState(`host ${b.key}`, 'host', b.last.value, cfg.host_max_silence_ms, nowMs));
  }
  return out;
}

/**
 * Lag of each Podwatch consumer group on its input topic. A group that never committed is left
 * out (that stage does not run here); once it has committed somewhere on the topic, a partition
 * it never committed counts whole, from its earliest offset: the stages read from the beginning,
 * so that backlog is work not done (a stage stuck on one partition's first batch shows here).
 */
export async function consumerLag(admin: Admin, groups: Array<{ group: string; topic: string }>): Promise<Array<{ group: string; topic: string; lag: number }>> {
  const out: Array<{ group: string; topic: string; lag: number }> = [];
  const existing = new Set(await admin.listTopics());
  for (const { group, topic } of groups) {
    if (!existing.has(topic)) continue;
    const { lags, committed } = await partitionLags(admin, group, topic);
    if (!committed) continue;
    out.push({ group, topic, lag: [...lags.values()].reduce((a, b) => a + b, 0) });
  }
  return out;
}

/**
 * The dead-man's switch: one `source-silent` alert when a source goes quiet past its interval,
 * one `source-resumed` when it comes back, one `pipeline-stalled` while a stage's lag is above
 * the limit and not shrinking. `silentSince` carries the episodes from run to run.
 */
export class Heartbeat {
  readonly silentSince = new Map<string, number>();
  private readonly lastLag = new Map<string, number>();

  /** `neverSeen` ends the summary of a source with no event at all: where the scheduler looked. */
  constructor(private readonly cfg: SchedulerConfig['heartbeat'], private readonly neverSeen = 'at all within the lookback') {}

  evaluate(sources: SourceStatus[], lags: Array<{ group: string; topic: string; lag: number }>, nowMs: number, runId: string): { alerts: Alert[]; lag: LagStatus[] } {
    const alerts: Alert[] = [];
    for (const s of sources) {
      const since = this.silentSince.get(s.name);
      const lastMs = s.last_seen ? Date.parse(s.last_seen) : undefined;
      if (s.silent && since === undefined) {
        this.silentSince.set(s.name, lastMs ?? nowMs);
        alerts.push(jobAlert({
          rule: 'source-silent', entity: { type: 'source', value: s.name }, atMs: nowMs, runId, occasion: String(lastMs ?? 'never'), firstSeenMs: lastMs ?? nowMs,
          summary: s.last_seen ? `No events from ${s.name} for ${human(s.silent_ms!)} (last at ${s.last_seen}; expected at least every ${human(s.max_silence_ms)})` : `No events from ${s.name} ${this.neverSeen} (expected at least every ${human(s.max_silence_ms)})`,
        }));
      } else if (!s.silent && since !== undefined) {
        this.silentSince.delete(s.name);
        alerts.push(jobAlert({
          rule: 'source-resumed', entity: { type: 'source', value: s.name }, atMs: nowMs, runId, occasion: String(since), firstSeenMs: since,
          summary: `Events from ${s.name} arrive again (silent from ${new Date(since).toISOString()} to ${s.last_seen})`,
        }));
      }
    }
    const lag: LagStatus[] = [];
    for (const l of lags) {
      const previous = this.lastLag.get(l.group);
      this.lastLag.set(l.group, l.lag);
      const stalled = this.cfg.max_consumer_lag > 0 && l.lag > this.cfg.max_consumer_lag && previous !== undefined && l.lag >= previous;
      lag.push({ ...l, ...(previous === undefined ? {} : { previous }), stalled });
      if (stalled) {
        alerts.push(jobAlert({
          rule: 'pipeline-stalled', entity: { type: 'source', value: `consumer group ${l.group}` }, atMs: nowMs, runId, occasion: runId,
          summary: `Consumer group ${l.group} is ${l.lag} messages behind on ${l.topic} and not catching up (was ${previous})`,
        }));
      }
    }
    return { alerts, lag };
  }
}

