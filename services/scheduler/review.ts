import type { SchedulerConfig } from '../../schemas/config.ts';
import type { Notification } from '../../schemas/notification.ts';
import { notificationId } from '../common/channels/channel.ts';
import type { Client } from '../common/elasticsearch.ts';
import { searchTargets } from '../common/elasticsearch.ts';
import { scanLocal } from '../common/local-store.ts';
import { fieldValue } from '../../detectors/lib/field.ts';

const DAY = 86_400_000;

export interface IdentityActivity {
  name: string;
  events: number;
  source_ips: string[];
  by_risk: Record<string, number>;
  execs: number;
  exec_containers: string[];
  failures: number;
  last_seen: string;
}

export interface Totals { events: number; identities: number; execs: number; failed_authentications: number; policy_violations: number }

/** The periodic access review: who used the API, how, and what needs a decision. */
export interface AccessReview {
  id: string;
  generated_at: string;
  period: { from: string; to: string };
  identities: IdentityActivity[];
  new_identities: string[];
  dormant_identities: Array<{ name: string; last_seen: string; days_silent: number }>;
  expiring_certificates: Array<{ subject: string; user?: string; not_after: string; days_left: number }>;
  failed_authentications: Array<{ source_ip: string; count: number; identities: string[] }>;
  policy_violations: Array<{ user: string; count: number }>;
  totals: Totals;
  previous: Totals;
}

type Bucket = { key: string; doc_count: number; [agg: string]: any };
const buckets = (agg: any): Bucket[] => (agg?.buckets ?? []) as Bucket[];
const EXEC = { term: { 'podman.api.operation': 'container.exec.create' } };
const VIOLATION = 'authz-policy-violation';
const FAILED_AUTH = { bool: { filter: [{ term: { 'event.category': 'authentication' } }, { term: { 'event.outcome': 'failure' } }] } };

/** The periods a review covers, ending at `toMs`: this one, the one before it, and the lookback. */
interface ReviewWindow { toMs: number; from: string; to: string; prevFrom: string; lookbackFrom: string }

function reviewWindow(cfg: ReviewConfig, toMs: number, periodDays: number): ReviewWindow {
  return {
    toMs,
    to: new Date(toMs).toISOString(),
    from: new Date(toMs - periodDays * DAY).toISOString(),
    prevFrom: new Date(toMs - 2 * periodDays * DAY).toISOString(),
    lookbackFrom: new Date(toMs - Math.max(cfg.lookback_days, periodDays) * DAY).toISOString(),
  };
}

type ReviewConfig = SchedulerConfig['access_review'];

/** What a store answers for a review; `assemble` turns it into the report. */
interface ReviewFacts {
  identities: IdentityActivity[];
  /** Every identity seen over the lookback, with its first and last event (epoch ms). */
  history: Array<{ name: string; first: number; last: number }>;
  certificates: Array<{ subject: string; user?: string; notAfter: number }>;
  failed_authentications: AccessReview['failed_authentications'];
  policy_violations: AccessReview['policy_violations'];
  totals: Totals;
  previous: Totals;
}

function assemble(w: ReviewWindow, cfg: ReviewConfig, f: ReviewFacts): AccessReview {
  const dormantBefore = w.toMs - cfg.dormant_days * DAY;
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  return {
    id: `access-review-${w.from.slice(0, 10)}-${w.to.slice(0, 10)}`,
    generated_at: new Date().toISOString(),
    period: { from: w.from, to: w.to },
    identities: [...f.identities].sort(byName),
    new_identities: f.history.filter((h) => h.first >= Date.parse(w.from)).map((h) => h.name).sort(),
    dormant_identities: f.history.filter((h) => h.last < dormantBefore)
      .map((h) => ({ name: h.name, last_seen: new Date(h.last).toISOString(), days_silent: Math.floor((w.toMs - h.last) / DAY) })).sort(byName),
    expiring_certificates: f.certificates.map((c) => ({
      subject: c.subject, ...(c.user ? { user: c.user } : {}), not_after: new Date(c.notAfter).toISOString(), days_left: Math.floor((c.notAfter - w.toMs) / DAY),
    })).sort((a, b) => a.days_left - b.days_left),
    failed_authentications: f.failed_authentications,
    policy_violations: f.policy_violations,
    totals: f.totals,
    previous: f.previous,
  };
}

async function totals(es: Client, ns: string, from: string, to: string): Promise<Totals> {
  const range = { range: { '@timestamp': { gte: from, lt: to } } };
  const { body } = await es.search({
    index: searchTargets(ns, ['events']), ignore_unavailable: true, allow_no_indices: true,
    body: { size: 0, track_total_hits: true, query: range, aggs: {
      identities: { cardinality: { field: 'user.name' } },
      execs: { filter: EXEC }, failures: { filter: FAILED_AUTH },
    } },
  });
  const alerts = await es.count({
    index: searchTargets(ns, ['alerts']), ignore_unavailable: true, allow_no_indices: true,
    body: { query: { bool: { filter: [range, { term: { 'rule.id': VIOLATION } }] } } },
  });
  return {
    events: body.hits.total.value, identities: body.aggregations?.identities.value ?? 0, execs: body.aggregations?.execs.doc_count ?? 0,
    failed_authentications: body.aggregations?.failures.doc_count ?? 0, policy_violations: alerts.body.count,
  };
}

/** Builds the review for [to - period_days, to) from the events and alerts indexed in Elasticsearch. */
export async function accessReview(es: Client, ns: string, cfg: ReviewConfig, toMs: number, periodDays = cfg.period_days): Promise<AccessReview> {
  const w = reviewWindow(cfg, toMs, periodDays);
  const { from, to } = w;
  const events = searchTargets(ns, ['events']);
  const common = { index: events, ignore_unavailable: true, allow_no_indices: true };

  const { body: period } = await es.search({ ...common, body: { size: 0, query: { range: { '@timestamp': { gte: from, lt: to } } }, aggs: {
    users: { terms: { field: 'user.name', size: 1000 }, aggs: {
      ips: { terms: { field: 'source.ip', size: 20 } },
      risk: { terms: { field: 'podman.api.risk', size: 10 } },
      exec: { filter: EXEC, aggs: { containers: { terms: { field: 'container.name', size: 50 } } } },
      failures: { filter: { term: { 'event.outcome': 'failure' } } },
      last: { max: { field: '@timestamp' } },
    } },
    failed: { filter: FAILED_AUTH, aggs: { by_ip: { terms: { field: 'source.ip', size: 50 }, aggs: { users: { terms: { field: 'user.name', size: 10 } } } } } },
    certs: { filter: { range: { 'tls.client.not_after': { lt: new Date(toMs + cfg.cert_expiry_days * DAY).toISOString() } } }, aggs: {
      subjects: { terms: { field: 'tls.client.x509.subject.distinguished_name', size: 200 }, aggs: {
        not_after: { max: { field: 'tls.client.not_after' } }, users: { terms: { field: 'user.name', size: 1 } },
      } },
    } },
  } } });

  const { body: history } = await es.search({ ...common, body: { size: 0, query: { range: { '@timestamp': { gte: w.lookbackFrom, lt: to } } }, aggs: {
    users: { terms: { field: 'user.name', size: 10_000 }, aggs: { first: { min: { field: '@timestamp' } }, last: { max: { field: '@timestamp' } } } },
  } } });

  const { body: violations } = await es.search({
    index: searchTargets(ns, ['alerts']), ignore_unavailable: true, allow_no_indices: true,
    body: { size: 0, query: { bool: { filter: [{ range: { '@timestamp': { gte: from, lt: to } } }, { term: { 'rule.id': VIOLATION } }] } }, aggs: { users: { terms: { field: 'user.name', size: 1000 } } } },
  });

  const [current, previous] = await Promise.all([totals(es, ns, from, to), totals(es, ns, w.prevFrom, from)]);
  return assemble(w, cfg, {
    identities: buckets(period.aggregations?.users).map((b): IdentityActivity => ({
      name: b.key, events: b.doc_count,
      source_ips: buckets(b.ips).map((x) => x.key),
      by_risk: Object.fromEntries(buckets(b.risk).map((x) => [x.key, x.doc_count])),
      execs: b.exec.doc_count, exec_containers: buckets(b.exec.containers).map((x) => x.key),
      failures: b.failures.doc_count, last_seen: b.last.value_as_string,
    })),
    history: buckets(history.aggregations?.users).map((b) => ({ name: b.key, first: b.first.value, last: b.last.value })),
    certificates: buckets(period.aggregations?.certs.subjects).map((b) => ({ subject: b.key, user: buckets(b.users)[0]?.key, notAfter: b.not_after.value })),
    failed_authentications: buckets(period.aggregations?.failed.by_ip).map((b) => ({ source_ip: b.key, count: b.doc_count, identities: buckets(b.users).map((u) => u.key) })),
    policy_violations: buckets(violations.aggregations?.users).map((b) => ({ user: b.key, count: b.doc_count })),
    totals: current,
    previous,
  });
}

/** Counts per key, read back the way an Elasticsearch `terms` aggregation orders its buckets. */
class Tally {
  readonly counts = new Map<string, number>();
  add(key: unknown): void {
    for (const k of values(key)) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  top(n: number): Array<[string, number]> {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
  }
  keys(n: number): string[] { return this.top(n).map(([k]) => k); }
}

/** A field's values as strings: none for a missing field, each element of an array. */
function values(v: unknown): string[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

const has = (doc: unknown, path: string, value: string) => values(fieldValue(doc, path)).includes(value);
const isExec = (doc: unknown) => has(doc, 'podman.api.operation', 'container.exec.create');
const isFailedAuth = (doc: unknown) => has(doc, 'event.category', 'authentication') && has(doc, 'event.outcome', 'failure');

/**
 * The same review from the standalone mode's local store, by reading the lookback's files once.
 * Identities, sources and certificates are counted exactly where Elasticsearch's aggregations
 * count approximately; the report is otherwise the same (a test holds both to one answer).
 */
export async function localAccessReview(dir: string, cfg: ReviewConfig, toMs: number, periodDays = cfg.period_days): Promise<AccessReview> {
  const w = reviewWindow(cfg, toMs, periodDays);
  const from = Date.parse(w.from);
  const prevFrom = Date.parse(w.prevFrom);
  const certsBefore = toMs + cfg.cert_expiry_days * DAY;
  type User = { events: number; ips: Tally; risk: Tally; execs: number; containers: Tally; failures: number; last: number };
  const users = new Map<string, User>();
  const history = new Map<string, { first: number; last: number }>();
  const failed = new Map<string, { count: number; users: Tally }>();
  const certs = new Map<string, { count: number; notAfter: number; users: Tally }>();
  const blank = () => ({ events: 0, identities: new Set<string>(), execs: 0, failed_authentications: 0, policy_violations: 0 });
  const [current, previous] = [blank(), blank()];
  const violations = new Tally();

  for await (const doc of scanLocal(dir, ['events', 'alerts'], { since: w.lookbackFrom, until: w.to })) {
    const t = Date.parse(doc['@timestamp']);
    const user = fieldValue(doc, 'user.name');
    const name = typeof user === 'string' ? user : undefined;
    if (fieldValue(doc, 'alert') !== undefined) {
      if (t < prevFrom || !has(doc, 'rule.id', VIOLATION)) continue;
      (t >= from ? current : previous).policy_violations++;
      if (t >= from) violations.add(name);
      continue;
    }
    if (name) {
      const h = history.get(name);
      if (!h) history.set(name, { first: t, last: t });
      else { h.first = Math.min(h.first, t); h.last = Math.max(h.last, t); }
    }
    if (t < prevFrom) continue;
    const tot = t >= from ? current : previous;
    tot.events++;
    if (name) tot.identities.add(name);
    if (isExec(doc)) tot.execs++;
    if (isFailedAuth(doc)) tot.failed_authentications++;
    if (t < from) continue;
    if (name) {
      let u = users.get(name);
      if (!u) users.set(name, u = { events: 0, ips: new Tally(), risk: new Tally(), execs: 0, containers: new Tally(), failures: 0, last: t });
      u.events++;
      u.ips.add(fieldValue(doc, 'source.ip'));
      u.risk.add(fieldValue(doc, 'podman.api.risk'));
      if (isExec(doc)) { u.execs++; u.containers.add(fieldValue(doc, 'container.name')); }
      if (has(doc, 'event.outcome', 'failure')) u.failures++;
      u.last = Math.max(u.last, t);
    }
    if (isFailedAuth(doc)) {
      for (const ip of values(fieldValue(doc, 'source.ip'))) {
        const f = failed.get(ip) ?? { count: 0, users: new Tally() };
        f.count++;
        f.users.add(name);
        failed.set(ip, f);
      }
    }
    const notAfter = Date.parse(String(fieldValue(doc, 'tls.client.not_after')));
    if (notAfter < certsBefore) {
      for (const dn of values(fieldValue(doc, 'tls.client.x509.subject.distinguished_name'))) {
        const c = certs.get(dn) ?? { count: 0, notAfter, users: new Tally() };
        c.count++;
        c.notAfter = Math.max(c.notAfter, notAfter);
        c.users.add(name);
        certs.set(dn, c);
      }
    }
  }

  const byCount = <T extends { count: number }>(m: Map<string, T>, n: number): Array<[string, T]> => [...m].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  const done = (x: ReturnType<typeof blank>): Totals => ({ ...x, identities: x.identities.size });
  const top = (n: number) => [...users].sort((a, b) => b[1].events - a[1].events || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  return assemble(w, cfg, {
    identities: top(1000).map(([name, u]) => ({
      name, events: u.events, source_ips: u.ips.keys(20), by_risk: Object.fromEntries(u.risk.top(10)),
      execs: u.execs, exec_containers: u.containers.keys(50), failures: u.failures, last_seen: new Date(u.last).toISOString(),
    })),
    history: [...history].map(([name, h]) => ({ name, ...h })),
    certificates: byCount(certs, 200).map(([subject, c]) => ({ subject, user: c.users.keys(1)[0], notAfter: c.notAfter })),
    failed_authentications: byCount(failed, 50).map(([ip, f]) => ({ source_ip: ip, count: f.count, identities: f.users.keys(10) })),
    policy_violations: violations.top(1000).map(([user, n]) => ({ user, count: n })),
    totals: done(current),
    previous: done(previous),
  });
}

const delta = (now: number, before: number) => (before === now ? '=' : now > before ? `+${now - before}` : `-${before - now}`);

/** The review as sections of rows, for the text, HTML and chat renderings (values unescaped). */
export function reviewSections(r: AccessReview): Array<{ title: string; header: string[]; rows: string[][] }> {
  const t = r.totals;
  const p = r.previous;
  return [
    { title: 'Totals (change against the previous period)', header: ['measure', 'this period', 'change'], rows: [
      ['events', String(t.events), delta(t.events, p.events)], ['identities', String(t.identities), delta(t.identities, p.identities)],
      ['exec sessions', String(t.execs), delta(t.execs, p.execs)], ['failed authentications', String(t.failed_authentications), delta(t.failed_authentications, p.failed_authentications)],
      ['policy violations', String(t.policy_violations), delta(t.policy_violations, p.policy_violations)],
    ] },
    { title: 'Identities', header: ['identity', 'events', 'source IPs', 'by risk tier', 'execs (containers)', 'failures', 'last seen'], rows: r.identities.map((i) => [
      i.name, String(i.events), i.source_ips.join(' '), Object.entries(i.by_risk).map(([k, v]) => `${k}:${v}`).join(' '),
      `${i.execs}${i.exec_containers.length ? ` (${i.exec_containers.join(' ')})` : ''}`, String(i.failures), i.last_seen,
    ]) },
    { title: 'Seen for the first time', header: ['identity'], rows: r.new_identities.map((n) => [n]) },
    { title: 'Dormant (revoke?)', header: ['identity', 'last seen', 'days silent'], rows: r.dormant_identities.map((d) => [d.name, d.last_seen, String(d.days_silent)]) },
    { title: 'Client certificates expiring soon', header: ['subject', 'identity', 'not after', 'days left'], rows: r.expiring_certificates.map((c) => [c.subject, c.user ?? '-', c.not_after, String(c.days_left)]) },
    { title: 'Failed authentications by source', header: ['source IP', 'count', 'identities'], rows: r.failed_authentications.map((f) => [f.source_ip, String(f.count), f.identities.join(' ') || '-']) },
    { title: 'Authorization-policy violations', header: ['identity', 'alerts'], rows: r.policy_violations.map((v) => [v.user, String(v.count)]) },
  ];
}

/** What in a review asks for a decision, as a job run's findings. */
export function reviewFindings(r: AccessReview): object[] {
  return [...r.new_identities.map((i) => ({ new_identity: i })), ...r.dormant_identities.map((d) => ({ dormant: d.name })), ...r.expiring_certificates.map((c) => ({ expiring: c.subject }))];
}

/** The review as a `report` notification for email and webhooks; the id is stable per period. */
export function reviewNotification(r: AccessReview, host: string): Notification {
  const t = r.totals;
  return {
    version: 1, id: notificationId('access-review', r.id), kind: 'report', '@timestamp': r.period.to, severity: 'low',
    title: 'Podman API access review',
    summary: `Access review ${r.period.from.slice(0, 10)} to ${r.period.to.slice(0, 10)} on ${host}: ${t.identities} identities, ${t.execs} exec sessions, ${t.failed_authentications} failed authentications, ${r.new_identities.length} new and ${r.dormant_identities.length} dormant identities, ${r.expiring_certificates.length} certificates expiring`,
    rule: { id: 'access-review', name: 'Access review' },
    entity: { type: 'endpoint', value: host },
    group: { key: r.id, alerts: 0, events: t.events, since_last: 0, first_seen: r.period.from, last_seen: r.period.to },
    report: { sections: reviewSections(r), data: r as unknown as Record<string, unknown> },
  };
}
