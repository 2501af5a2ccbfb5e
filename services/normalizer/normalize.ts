import { z } from 'zod';
import type { NormalizerConfig } from '../../schemas/config.ts';
import type { DeadLetter } from '../../schemas/dead-letter.ts';
import { EcsEvent, type EcsEventInput } from '../../schemas/event.ts';
import { RawRecord } from '../../schemas/raw.ts';
import { inCidr, parseCidr, type Cidr } from '../../detectors/lib/cidr.ts';
import { lookupOperation } from './catalogue.ts';
import { geoLookup, type GeoLookup } from './geoip.ts';
import { identityOf } from './identity.ts';
import { pickParser } from './parsers/index.ts';
import { journalMessage } from './parsers/podman-api.ts';
import { ParseError, type Parsed } from './parsers/types.ts';

export type Outcome =
  | { ok: true; event: EcsEvent; key: string }
  | { ok: false; dead: DeadLetter };

export interface NormalizeContext {
  cfg: NormalizerConfig;
  networks: Array<{ name: string; net: Cidr }>;
  localOffsetMinutes: number;
  geo?: GeoLookup;
  /** The clock for `event.ingested` (tests pin it). */
  now: () => Date;
}

export function normalizeContext(cfg: NormalizerConfig, now: () => Date = () => new Date()): NormalizeContext {
  const tz = cfg.local_timezone;
  const localOffsetMinutes = tz === 'UTC' ? 0
    : tz === 'local' ? -new Date().getTimezoneOffset()
      : (tz.startsWith('-') ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
  return { cfg, networks: cfg.networks.map((n) => ({ name: n.name, net: parseCidr(n.cidr) })), localOffsetMinutes, now, geo: geoLookup(cfg.geoip) };
}

const AUTH_STATUS = new Set([401, 403, 495, 496]);

function dead(reason: string, original: string, component?: string, issues: string[] = []): Outcome {
  return { ok: false, dead: { '@timestamp': new Date().toISOString(), stage: 'normalizer', reason, ...(component ? { component } : {}), issues, original, original_encoding: 'utf8' } };
}

/** ECS category, type, action and outcome, set the same way for every format. */
function classify(p: Parsed, status: number | undefined, operation: string | undefined): Pick<EcsEventInput['event'], 'category' | 'type' | 'action' | 'outcome' | 'reason'> {
  const auth = Boolean(p.authFailure) || (status !== undefined && AUTH_STATUS.has(status));
  switch (p.kind) {
    case 'http': {
      const method = p.request?.method.toUpperCase() ?? 'GET';
      const type: Array<EcsEventInput['event']['type'][number]> = [
        method === 'GET' || method === 'HEAD' ? 'access'
          : method === 'DELETE' ? 'deletion'
            : operation?.endsWith('.create') ? 'creation' : 'change',
      ];
      if (auth) type.push('denied');
      const failed = auth || (status !== undefined && status >= 400);
      return {
        category: auth ? ['authentication', 'web', 'api'] : ['web', 'api'],
        type,
        action: operation ?? 'unknown',
        outcome: status === undefined ? 'unknown' : failed ? 'failure' : 'success',
        ...(failed ? { reason: p.authFailure ?? `HTTP ${status}` } : {}),
      };
    }
    case 'tls':
      return {
        category: auth ? ['authentication', 'network'] : ['network'],
        type: auth ? ['connection', 'denied'] : ['connection', 'error'],
        action: p.action ?? 'tls',
        outcome: 'failure',
        reason: p.authFailure ?? p.failure ?? 'TLS failure',
      };
    case 'podman-event': {
      const [kind, status2] = (p.action ?? 'unknown.unknown').split('.') as [string, string];
      const category: EcsEventInput['event']['category'] = kind === 'container' || kind === 'pod' ? ['process'] : kind === 'image' ? ['package'] : ['configuration'];
      const type: EcsEventInput['event']['type'] = /^(create|pull|import|load|build|commit|tag)$/.test(status2) ? ['creation']
        : /^(remove|cleanup|prune|untag)$/.test(status2) ? ['deletion']
          : /^(start|init|exec|attach|restart|unpause)$/.test(status2) ? ['start']
            : /^(stop|died|kill|pause|exec_died)$/.test(status2) ? ['end'] : ['change'];
      return { category, type, action: p.action ?? 'podman', outcome: p.failure ? 'failure' : 'success', ...(p.failure ? { reason: p.failure } : {}) };
    }
    default:
      return {
        category: p.observer.type === 'proxy' ? ['web'] : ['host'],
        type: p.failure ? ['error'] : ['info'],
        action: p.action ?? 'log',
        outcome: p.failure ? 'failure' : 'unknown',
        ...(p.failure ? { reason: p.failure } : {}),
      };
  }
}

/** Turns one raw record into one validated event, or one dead letter that says why. */
export function normalize(rawText: string, ctx: NormalizeContext): Outcome {
  let json: unknown;
  try {
    json = JSON.parse(rawText);
  } catch (err) {
    return dead(`raw record is not JSON: ${(err as Error).message}`, rawText);
  }
  const rawResult = RawRecord.safeParse(json);
  if (!rawResult.success) return dead('raw record does not match the raw-record schema', rawText, undefined, z.prettifyError(rawResult.error).split('\n'));
  return normalizeRecord(rawResult.data, ctx, rawText);
}

export function normalizeRecord(raw: RawRecord, ctx: NormalizeContext, rawText = JSON.stringify(raw)): Outcome {
  const text = raw.journal
    ? journalMessage(raw) ?? ''
    : raw.encoding === 'base64' ? Buffer.from(raw.line ?? '', 'base64').toString('utf8') : raw.line ?? '';
  if (!raw.journal && text.trim() === '') return dead('empty line', rawText);
  const parser = pickParser(raw.source.format, raw, text);
  if (!parser) {
    return dead(raw.source.format === 'auto' ? 'no parser recognised the record' : `unknown format '${raw.source.format}'`, rawText);
  }
  let p: Parsed;
  try {
    p = parser.parse(raw, text, { localOffsetMinutes: ctx.localOffsetMinutes });
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    const why = raw.truncated ? `${err.message} (the line was truncated at ${text.length} of ${raw.length} bytes)` : err.message;
    return dead(why, rawText, parser.name);
  }

  // Parsers build fresh objects per record, so the fields can be completed in place.
  const f = p.fields as Record<string, any>;
  let operation: string | undefined;
  if (p.request) {
    const api = lookupOperation(p.request.method, f.url?.path ?? p.request.uri, f.url?.query ?? '');
    operation = api.operation;
    f.podman ??= {};
    f.podman.api = {
      operation: api.operation, flavour: api.flavour, version: api.version || undefined, risk: api.risk || undefined,
      showsecret: api.showsecret ? true : undefined,
    };
    if (api.target) {
      if (api.operation.startsWith('container.exec.') && !api.operation.startsWith('container.exec.create')) f.podman.exec = { ...f.podman.exec, session_id: api.target };
      else if (api.operation.startsWith('container.')) f.container = { ...f.container, ...(/^[0-9a-f]{64}$/.test(api.target) ? { id: api.target } : { name: api.target }) };
    }
  }
  const cert = f.tls?.client;
  if (p.certVerified && cert && !f.user) {
    const name = identityOf({ sha1: cert.hash?.sha1, dn: cert.x509?.subject?.distinguished_name, cn: cert.x509?.subject?.common_name }, ctx.cfg.identity);
    if (name) f.user = { name };
  }
  const ip: string | undefined = f.source?.ip;
  if (f.source && !ip && f.source.port === undefined) f.source = undefined;
  if (ip) {
    const net = ctx.networks.find((n) => inCidr(ip, n.net));
    if (net) f.source.network = net.name;
    if (ctx.geo) Object.assign(f.source, ctx.geo(ip));
  }
  const status: number | undefined = f.http?.response?.status_code;
  const labels: Record<string, string> | undefined = raw.truncated || raw.encoding === 'base64' ? { ...f.labels } : f.labels;
  if (raw.truncated) labels!.truncated = 'true';
  if (raw.encoding === 'base64') labels!.raw_encoding = 'base64';

  // Completed in place rather than spread into a new object (cheaper, and shapes stay stable);
  // `compact` drops the members left undefined. What the parser set for these keys is replaced.
  const c = classify(p, status, operation);
  const event: EcsEventInput['event'] = {
    id: raw.id, kind: 'event', category: c.category, type: c.type, action: c.action, outcome: c.outcome, reason: c.reason,
    dataset: p.dataset, module: 'podwatch',
    original: ctx.cfg.keep_original ? (raw.journal ? (text || JSON.stringify(raw.journal)) : text) : undefined,
    ingested: ctx.now().toISOString(),
  };
  f['@timestamp'] = p.timestamp.toISOString();
  f.event = event;
  f.host = { name: raw.host };
  f.observer = p.observer;
  if (raw.path) { f.log ??= {}; f.log.file = { path: raw.path }; }
  f.related = { ip: ip ? [ip] : undefined, user: f.user?.name ? [f.user.name] : undefined };
  f.labels = labels;
  const candidate: EcsEventInput = f as EcsEventInput;
  const result = EcsEvent.safeParse(compact(candidate));
  if (!result.success) return dead('event failed schema validation', rawText, parser.name, z.prettifyError(result.error).split('\n'));
  const e = result.data;
  const key = ctx.cfg.partition_key === 'host' ? raw.host : e.user?.name ?? e.source?.ip ?? e.container?.name ?? `${raw.host}/${raw.source.name}`;
  return { ok: true, event: e, key };
}

/**
 * A copy without undefined members and without objects left empty, so optional ECS objects are
 * absent rather than `{}`. Copying (not `delete`) keeps V8's fast object shapes, which the schema
 * check and JSON.stringify after it depend on. Returns undefined for an empty object.
 */
function compact(v: Record<string, unknown>): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const k in v) {
    let x = v[k];
    if (x === undefined) continue;
    if (typeof x === 'object' && x !== null && !Array.isArray(x)) {
      x = compact(x as Record<string, unknown>);
      if (x === undefined) continue;
    }
    (out ??= {})[k] = x;
  }
  return out;
}
