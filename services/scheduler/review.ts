import type { SchedulerConfig } from '../../schemas/config.ts';
import type { Notification } from '../../schemas/notification.ts';
import { notificationId } from '../common/channels/channel.ts';
import type { Client } from '../common/elasticsearch.ts';
import { searchTargets } from '../common/elasticsearch.ts';

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
const FAILED_AUTH = { bool: { filter: [{ term: { 'event.category': 'authentication' } }, { term: { 'event.outcome': 'failure' } }] } };

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
    body: { query: { bool: { filter: [range, { term: { 'rule.id': 'authz-policy-violation' } }] } } },
  });
  return {
    events: body.hits.total.value, identities: body.aggregations?.identities.value ?? 0, execs: body.aggregations?.execs.doc_count ?? 0,
    failed_authentications: body.aggregations?.failures.doc_count ?? 0, policy_violations: alerts.body.count,
  };
}

/** Builds the review for [to - period_days, to) from the indexed events and alerts. */
export async function accessReview(es: Client, ns: string, cfg: SchedulerConfig['access_review'], toMs: number, periodDays = cfg.period_days): Promise<AccessReview> {
  const to = new Date(toMs).toISOString();
  const from = new Date(toMs - periodDays * DAY).toISOString();
  const prevFrom = new Date(toMs - 2 * periodDays * DAY).toISOString();
  const lookbackFrom = new Date(toMs - Math.max(cfg.lookback_days, periodDays) * DAY).toISOString();
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

  const { body: history } = await es.search({ ...common, body: { size: 0, query: { range: { '@timestamp': { gte: lookbackFrom, lt: to } } }, aggs: {
    users: { terms: { field: 'user.name', size: 10_000 }, aggs: { first: { min: { field: '@timestamp' } }, last: { max: { field: '@timestamp' } } } },
  } } });

  const { body: violations } = await es.search({
    index: searchTargets(ns, ['alerts']), ignore_unavailable: true, allow_no_indices: true,
    body: { size: 0, query: { bool: { filter: [{ range: { '@timestamp': { gte: from, lt: to } } }, { term: { 'rule.id': 'authz-policy-violation' } }] } }, aggs: { users: { terms: { field: 'user.name', size: 1000 } } } },
  });

  const identities = buckets(period.aggregations?.users).map((b): IdentityActivity => ({
    name: b.key, events: b.doc_count,
    source_ips: buckets(b.ips).map((x) => x.key),
    by_risk: Object.fromEntries(buckets(b.risk).map((x) => [x.key, x.doc_count])),
    execs: b.exec.doc_count, exec_containers: buckets(b.exec.containers).map((x) => x.key),
    failures: b.failures.doc_count, last_seen: b.last.value_as_string,
  })).sort((a, b) => a.name.localeCompare(b.name));
  const hist = buckets(history.aggregations?.users);
  const dormantBefore = toMs - cfg.dormant_days * DAY;
  const [current, previous] = await Promise.all([totals(es, ns, from, to), totals(es, ns, prevFrom, from)]);
  return {
    id: `access-review-${from.slice(0, 10)}-${to.slice(0, 10)}`,
    generated_at: new Date().toISOString(),
    period: { from, to },
    identities,
    new_identities: hist.filter((b) => b.first.value >= Date.parse(from)).map((b) => b.key).sort(),
    dormant_identities: hist.filter((b) => b.last.value < dormantBefore)
      .map((b) => ({ name: b.key, last_seen: b.last.value_as_string, days_silent: Math.floor((toMs - b.last.value) / DAY) })).sort((a, b) => a.name.localeCompare(b.name)),
    expiring_certificates: buckets(period.aggregations?.certs.subjects).map((b) => ({
      subject: b.key, ...(buckets(b.users)[0] ? { user: buckets(b.users)[0]!.key } : {}),
      not_after: b.not_after.value_as_string, days_left: Math.floor((b.not_after.value - toMs) / DAY),
    })).sort((a, b) => a.days_left - b.days_left),
    failed_authentications: buckets(period.aggregations?.failed.by_ip).map((b) => ({ source_ip: b.key, count: b.doc_count, identities: buckets(b.users).map((u) => u.key) })),
    policy_violations: buckets(violations.aggregations?.users).map((b) => ({ user: b.key, count: b.doc_count })),
    totals: current,
    previous,
  };
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
