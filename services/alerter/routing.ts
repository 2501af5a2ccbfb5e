import type { Alert } from '../../schemas/alert.ts';
import type { AlerterConfig, AlertMatch } from '../../schemas/config.ts';
import { globRe } from '../../detectors/lib/field.ts';
import { severityAtLeast } from './grouping.ts';

const compiled = new WeakMap<string[], RegExp[]>();
const anyGlob = (patterns: string[], value: string) => {
  let res = compiled.get(patterns);
  if (!res) { res = patterns.map(globRe); compiled.set(patterns, res); }
  return res.some((r) => r.test(value));
};

/** Whether every condition given in `m` holds for the alert. */
export function matches(m: AlertMatch, a: Alert): boolean {
  if (m.severity && !m.severity.includes(a.alert.severity)) return false;
  if (m.min_severity && !severityAtLeast(a.alert.severity, m.min_severity)) return false;
  if (m.rule && !anyGlob(m.rule, a.rule.id)) return false;
  if (m.entity && !anyGlob(m.entity, a.alert.entity.value)) return false;
  if (m.labels && !Object.entries(m.labels).every(([k, v]) => a.alert.labels?.[k] === v)) return false;
  return true;
}

/** The channels an alert goes to: the first matching route (and following ones while `continue`), else the default. */
export function route(cfg: Pick<AlerterConfig, 'routes' | 'default_channels'>, a: Alert): string[] {
  const out = new Set<string>();
  for (const r of cfg.routes) {
    if (!matches(r.match, a)) continue;
    for (const c of r.channels) out.add(c);
    if (!r.continue) break;
  }
  return out.size ? [...out] : [...cfg.default_channels];
}

export type Mute = AlerterConfig['mutes'][number];

/** The active mute that silences an alert, if any (expired ones never match). */
export function activeMute(mutes: readonly Mute[], a: Alert, nowMs: number): Mute | undefined {
  return mutes.find((m) => Date.parse(m.until) > nowMs && matches(m.match, a));
}
