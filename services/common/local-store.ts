import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { inCidr, parseCidr } from '../../detectors/lib/cidr.ts';
import { fieldValue, globRe } from '../../detectors/lib/field.ts';
import type { Config } from '../../schemas/config.ts';
import { UserError } from './errors.ts';

export type Kind = 'events' | 'alerts';
const FILE = /^(events|alerts)-(\d{4}-\d{2}-\d{2})\.ndjson(?:\.(\d+))?$/;

/**
 * The embedded store of standalone mode: events and alerts as NDJSON, one file per kind and UTC
 * day (rolled over at `max_file_mb`), older than `retention_days` deleted. Appends are buffered
 * and written by `flush`, which the pipeline awaits before its checkpoint moves; a replay after a
 * crash may append a record twice, and searches keep the first copy of each id.
 */
export class LocalStore {
  private buffer = new Map<string, string[]>();
  private lastPrune = 0;

  constructor(private readonly cfg: Config['store']) {
    fs.mkdirSync(cfg.dir, { recursive: true });
  }

  add(kind: Kind, doc: { '@timestamp': string }): void {
    const key = `${kind}-${doc['@timestamp'].slice(0, 10)}`;
    const list = this.buffer.get(key) ?? [];
    list.push(JSON.stringify(doc));
    this.buffer.set(key, list);
  }

  /** Writes what was added (fsync'd), rolling files over at the size limit; prunes old days hourly. */
  flush(): void {
    for (const [key, lines] of this.buffer) {
      const file = this.current(key);
      const fd = fs.openSync(file, 'a');
      try {
        fs.writeSync(fd, `${lines.join('\n')}\n`);
        fs.fsyncSync(fd);
      } finally { fs.closeSync(fd); }
    }
    this.buffer = new Map();
    if (Date.now() - this.lastPrune > 3_600_000) this.prune();
  }

  private current(key: string): string {
    const base = path.join(this.cfg.dir, `${key}.ndjson`);
    const max = this.cfg.max_file_mb * 1024 * 1024;
    let n = 0;
    for (let f = base; ; f = `${base}.${++n}`) {
      const size = fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0;
      if (size < max) return f;
    }
  }

  prune(nowMs = Date.now()): string[] {
    this.lastPrune = nowMs;
    const cutoff = new Date(nowMs - this.cfg.retention_days * 86_400_000).toISOString().slice(0, 10);
    const gone = fs.readdirSync(this.cfg.dir).filter((f) => { const m = FILE.exec(f); return m && m[2]! < cutoff; });
    for (const f of gone) fs.rmSync(path.join(this.cfg.dir, f));
    return gone;
  }
}

type Clause = { not: boolean; field?: string; test: (v: string) => boolean };

/**
 * The part of Elasticsearch's query-string syntax the local store understands: `field:value`,
 * `field:"quoted value"`, `*` wildcards, CIDR on IP fields, `NOT`/`-`, implicit or explicit AND,
 * and bare words matched anywhere. Anything else is a clear error, not a silent mismatch.
 */
export function compileQuery(q: string): (doc: unknown) => boolean {
  const tokens = q.match(/-?[A-Za-z0-9_.@]+:"[^"]*"|"[^"]*"|\S+/g) ?? [];
  const clauses: Clause[] = [];
  let negate = false;
  for (let t of tokens) {
    if (t === 'AND' || t === '*') continue;
    if (t === 'NOT') { negate = true; continue; }
    if (t === 'OR' || /[()[\]{}]/.test(t) || /:[<>]/.test(t)) throw new UserError(`the local store does not understand '${t}': use field:value, "quoted", wildcards, NOT or -, CIDR on IP fields (or configure Elasticsearch)`);
    let not = negate;
    negate = false;
    if (t.startsWith('-')) { not = !not; t = t.slice(1); }
    const m = /^([A-Za-z0-9_.@]+):(.*)$/.exec(t);
    const raw = (m ? m[2]! : t).replace(/^"(.*)"$/, '$1');
    let test: (v: string) => boolean;
    if (m && /(^|\.)ip$/.test(m[1]!) && raw.includes('/')) { const net = parseCidr(raw); test = (v) => inCidr(v, net); }
    else if (raw.includes('*') || raw.includes('?')) { const re = globRe(raw); test = (v) => re.test(v); }
    else if (m) test = (v) => v === raw;
    else { const lower = raw.toLowerCase(); test = (v) => v.toLowerCase().includes(lower); }
    clauses.push({ not, ...(m ? { field: m[1]! } : {}), test });
  }
  return (doc) => clauses.every((c) => {
    let hit: boolean;
    if (c.field) {
      const v = fieldValue(doc, c.field);
      hit = (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).some((x) => c.test(String(x)));
    } else hit = c.test(JSON.stringify(doc));
    return hit !== c.not;
  });
}

type StoredDoc = { '@timestamp': string; event?: { id?: string }; alert?: { id?: string } };

/**
 * Ids remembered to skip repeats. A repeat comes from a replay after a crash (at most one batch,
 * appended right after the copy it repeats), so the recent ids suffice and memory stays bounded.
 */
const REPEAT_WINDOW = 100_000;

/**
 * Every document of the kinds with a timestamp in [since, until), oldest file first, each id
 * once. The files of a day are read only if the day overlaps the range.
 */
export async function* scanLocal(dir: string, kinds: readonly Kind[], range: { since?: string; until?: string } = {}): AsyncGenerator<StoredDoc & Record<string, unknown>> {
  const files = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).flatMap((f) => { const m = FILE.exec(f); return m ? [{ f, kind: m[1]!, day: m[2]!, n: Number(m[3] ?? 0) }] : []; })
    .filter((x) => kinds.includes(x.kind as Kind) && (!range.since || x.day >= range.since.slice(0, 10)) && (!range.until || x.day <= range.until.slice(0, 10)))
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.day.localeCompare(b.day) || a.n - b.n);
  const since = range.since ? Date.parse(range.since) : -Infinity;
  const until = range.until ? Date.parse(range.until) : Infinity;
  const recent = new Set<string>();
  for (const { f } of files) {
    const rl = readline.createInterface({ input: fs.createReadStream(path.join(dir, f)), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line) continue;
      const doc = JSON.parse(line) as StoredDoc & Record<string, unknown>;
      const id = doc.alert?.id ?? doc.event?.id ?? line;
      if (recent.has(id)) continue;
      recent.add(id);
      if (recent.size > REPEAT_WINDOW) recent.delete(recent.values().next().value!);
      const t = Date.parse(doc['@timestamp']);
      if (t >= since && t < until) yield doc;
    }
  }
}

/**
 * Newest first: the documents of the kinds in [since, until] matching the query, each id once,
 * at most `limit` of them held at a time however many match.
 */
export async function searchLocal(dir: string, kinds: Kind[], query: string, range: { since?: string; until?: string }, limit: number): Promise<{ hits: unknown[]; total: number }> {
  const match = compileQuery(query);
  const until = range.until ? new Date(Date.parse(range.until) + 1).toISOString() : undefined;
  let hits: Array<{ t: number; doc: unknown }> = [];
  let total = 0;
  const newest = () => hits.sort((a, b) => b.t - a.t).slice(0, limit);
  for await (const doc of scanLocal(dir, kinds, { ...range, ...(until ? { until } : {}) })) {
    if (!match(doc)) continue;
    total++;
    hits.push({ t: Date.parse(doc['@timestamp']), doc });
    if (hits.length >= 2 * limit) hits = newest();
  }
  return { hits: newest().map((h) => h.doc), total };
}
