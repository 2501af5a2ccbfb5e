import type { Config } from '../../schemas/config.ts';
import { fieldValue } from '../../detectors/lib/field.ts';
import { createElasticsearch, elasticsearchConfigProblem, searchTargets } from '../common/elasticsearch.ts';
import { UserError } from '../common/errors.ts';
import { searchLocal } from '../common/local-store.ts';

export interface SearchArgs { query: string; since?: string; until?: string; fields?: string; json?: boolean; limit?: string; alerts?: boolean; open?: boolean }

/** An alert is open while its activity goes on: last seen within this long. */
const OPEN_WINDOW = '1h';

/** `1h`, `30m`, `7d`, `2w` before now, or an ISO timestamp. */
export function parseTime(s: string, now = Date.now()): string {
  const m = /^(\d+)([smhdw])$/.exec(s);
  if (m) return new Date(now - Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] as 's']).toISOString();
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new UserError(`cannot read the time '${s}' (use 1h, 30m, 7d or an ISO timestamp)`);
  return new Date(t).toISOString();
}

const EVENT_COLUMNS = ['@timestamp', 'user.name', 'source.ip', 'event.action', 'event.outcome', 'container.name'];
const ALERT_COLUMNS = ['@timestamp', 'alert.severity', 'rule.id', 'alert.entity.value', 'alert.count', 'alert.summary'];

function cell(o: unknown, path: string): string {
  const v = fieldValue(o, path);
  return v === undefined || v === null ? '-' : Array.isArray(v) ? v.join(',') : String(v);
}

/**
 * `podwatch search '<query>'` (Elasticsearch query string over events and alerts) and
 * `podwatch alerts`: a table, or NDJSON with --json.
 */
export async function searchCommand(cfg: Readonly<Config>, a: SearchArgs): Promise<number> {
  const limit = a.limit === undefined ? 50 : Number(a.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UserError('--limit takes a whole number from 1 to 10000');
  const range = { ...(a.since ? { since: parseTime(a.since) } : {}), ...(a.until ? { until: parseTime(a.until) } : {}) };
  const { hits, total } = cfg.elasticsearch ? await searchElasticsearch(cfg, a, range, limit) : await searchStore(cfg, a, range, limit);
  if (a.json) {
    for (const h of hits) process.stdout.write(`${JSON.stringify(h)}\n`);
    return hits.length;
  }
  const cols = a.fields ? a.fields.split(',').map((s) => s.trim()).filter(Boolean) : a.alerts ? ALERT_COLUMNS : EVENT_COLUMNS;
  const rows = [cols, ...hits.map((h) => cols.map((c) => cell(h, c)))];
  const widths = cols.map((_, i) => Math.min(60, Math.max(...rows.map((r) => r[i]!.length))));
  for (const r of rows) process.stdout.write(`${r.map((v, i) => v.slice(0, 60).padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  process.stderr.write(`${hits.length} of ${total} shown${cfg.elasticsearch ? '' : ` (local store ${cfg.store.dir})`}\n`);
  return hits.length;
}

type Range = { since?: string; until?: string };

/** Standalone without Elasticsearch: the embedded NDJSON store. */
async function searchStore(cfg: Readonly<Config>, a: SearchArgs, range: Range, limit: number): Promise<{ hits: unknown[]; total: number }> {
  const open = a.open ? { since: parseTime(OPEN_WINDOW) } : {};
  const query = a.query && a.query !== '*' ? a.query : '';
  const r = await searchLocal(cfg.store.dir, a.alerts ? ['alerts'] : ['events', 'alerts'], query, { ...range, ...open }, limit);
  return r;
}

async function searchElasticsearch(cfg: Readonly<Config>, a: SearchArgs, range: Range, limit: number): Promise<{ hits: unknown[]; total: number }> {
  const es = cfg.elasticsearch!;
  const index = searchTargets(es.namespace, a.alerts ? ['alerts'] : ['events', 'alerts']);
  const filter: unknown[] = [];
  if (range.since || range.until) filter.push({ range: { '@timestamp': { ...(range.since ? { gte: range.since } : {}), ...(range.until ? { lte: range.until } : {}) } } });
  if (a.open) filter.push({ range: { 'alert.last_seen': { gte: parseTime(OPEN_WINDOW) } } });
  if (a.query && a.query !== '*') filter.push({ query_string: { query: a.query, default_operator: 'AND', analyze_wildcard: true } });
  const client = createElasticsearch(es);
  try {
    let body;
    try {
      ({ body } = await client.search({
        index, ignore_unavailable: true, allow_no_indices: true,
        body: { size: limit, sort: [{ '@timestamp': { order: 'desc', unmapped_type: 'date' } }], query: { bool: { filter } } },
      }));
    } catch (err) {
      const problem = elasticsearchConfigProblem(err, es);
      if (problem) throw problem;
      const reason = (err as { meta?: { body?: { error?: { root_cause?: Array<{ reason?: string }> } } } }).meta?.body?.error?.root_cause?.[0]?.reason;
      if (reason) throw new UserError(`Elasticsearch could not run the query: ${reason}`);
      throw new UserError(`cannot reach Elasticsearch at ${es.url}: ${(err as Error).message}`);
    }
    const hits = (body.hits.hits as Array<{ _source: Record<string, unknown> }>).map((h) => h._source);
    return { hits, total: typeof body.hits.total === 'object' ? body.hits.total.value : body.hits.total };
  } finally {
    await client.close();
  }
}
