import type { Alert } from '../../schemas/alert.ts';
import type { AlerterConfig } from '../../schemas/config.ts';
import type { Severity } from '../../schemas/common.ts';
import type { Notification } from '../../schemas/notification.ts';
import { fieldValue } from '../../detectors/lib/field.ts';
import { notificationId } from '../common/channels/channel.ts';

/** One open alert group: what was notified, and up to which input offset it already counts. */
export interface GroupState {
  key: string;
  opened_by: string;
  first_seen: string;
  last_seen: string;
  severity: Severity;
  alerts: number;
  events: number;
  /** `alerts` when the group was last notified, and that alert's time. */
  notified_alerts: number;
  notified_at: string;
  seq: number;
  /** Input offset of the last alert applied: a replay after a crash is recognised and skipped. */
  offset?: string;
  /** Wall clock of the last change; a group quiet for `window_ms` is closed by `sweep`. */
  touched_ms: number;
  latest: Alert;
}

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
export const severityAtLeast = (s: Severity, min: Severity) => SEVERITY_RANK[s] >= SEVERITY_RANK[min];

export function groupKey(a: Alert, by: readonly string[]): string {
  return by.map((f) => {
    const v = fieldValue(a, f);
    return v === undefined || v === null ? '' : String(v);
  }).join('\u001f');
}

function notify(g: GroupState, kind: 'alert' | 'repeat' | 'summary', sinceLast: number): Notification {
  const a = g.latest;
  const entity = `${a.alert.entity.type} ${a.alert.entity.value}`;
  return {
    version: 1,
    id: notificationId(g.key, g.opened_by, kind, String(g.seq)),
    kind,
    '@timestamp': g.last_seen,
    severity: g.severity,
    title: a.rule.name,
    summary: kind === 'summary'
      ? `${a.rule.name}: ${g.alerts} alerts for ${entity} from ${g.first_seen} to ${g.last_seen}; the group is closed`
      : kind === 'repeat' ? `${a.alert.summary} (still active: ${sinceLast} more alerts, ${g.alerts} in all)` : a.alert.summary,
    rule: { id: a.rule.id, name: a.rule.name },
    entity: a.alert.entity,
    group: { key: g.key, alerts: g.alerts, events: g.events, since_last: sinceLast, first_seen: g.first_seen, last_seen: g.last_seen },
    alert: a,
  };
}

/**
 * Turns alerts into notifications: the first alert of a group is notified, later ones are
 * counted until `realert_ms` (alert time) has passed since the last notification, and a group
 * quiet for `window_ms` closes with a summary when it held more than one alert. Decisions depend
 * only on the state and the alerts, so a replay from the same state yields the same ids.
 */
export class Grouper {
  readonly groups = new Map<string, GroupState>();
  /** State keys changed since the caller last persisted them. */
  readonly dirty = new Set<string>();

  constructor(private readonly cfg: AlerterConfig['grouping']) {}

  /** `scope` keeps groups of different input partitions apart (their offsets do not compare). */
  accept(a: Alert, nowMs: number, scope = '', offset?: string): { notifications: Notification[]; grouped: boolean; replayed: boolean } {
    const key = groupKey(a, this.cfg.by);
    const sk = `${scope}|${key}`;
    let g = this.groups.get(sk);
    if (g && offset !== undefined && g.offset !== undefined && BigInt(offset) <= BigInt(g.offset)) {
      return { notifications: [], grouped: false, replayed: true };
    }
    const t = Date.parse(a.alert.last_seen);
    const out: Notification[] = [];
    if (g && t - Date.parse(g.last_seen) > this.cfg.window_ms) {
      out.push(...this.close(sk, g));
      g = undefined;
    }
    let grouped = false;
    if (!g) {
      g = {
        key, opened_by: a.alert.id, first_seen: a.alert.first_seen, last_seen: a.alert.last_seen, severity: a.alert.severity,
        alerts: 1, events: a.alert.count, notified_alerts: 1, notified_at: a.alert.last_seen, seq: 0,
        ...(offset === undefined ? {} : { offset }), touched_ms: nowMs, latest: a,
      };
      out.push(notify(g, 'alert', 1));
    } else {
      g.alerts += 1;
      g.events += a.alert.count;
      if (a.alert.first_seen < g.first_seen) g.first_seen = a.alert.first_seen;
      if (a.alert.last_seen > g.last_seen) g.last_seen = a.alert.last_seen;
      if (SEVERITY_RANK[a.alert.severity] > SEVERITY_RANK[g.severity]) g.severity = a.alert.severity;
      if (offset !== undefined) g.offset = offset;
      g.touched_ms = nowMs;
      g.latest = a;
      if (t - Date.parse(g.notified_at) >= this.cfg.realert_ms) {
        g.seq += 1;
        const since = g.alerts - g.notified_alerts;
        g.notified_alerts = g.alerts;
        g.notified_at = a.alert.last_seen;
        out.push(notify(g, 'repeat', since));
      } else {
        grouped = true;
      }
    }
    this.groups.set(sk, g);
    this.dirty.add(sk);
    return { notifications: out, grouped, replayed: false };
  }

  /** Closes groups quiet (wall clock) for `window_ms`; returns their summaries. */
  sweep(nowMs: number, scopes?: ReadonlySet<string>): Notification[] {
    const out: Notification[] = [];
    for (const [sk, g] of this.groups) {
      if (scopes && !scopes.has(sk.slice(0, sk.indexOf('|')))) continue;
      if (nowMs - g.touched_ms > this.cfg.window_ms) out.push(...this.close(sk, g));
    }
    return out;
  }

  private close(sk: string, g: GroupState): Notification[] {
    this.groups.delete(sk);
    this.dirty.add(sk);
    return g.alerts > 1 ? [notify(g, 'summary', g.alerts - g.notified_alerts)] : [];
  }
}
