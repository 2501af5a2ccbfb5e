import { ParseError, type Fields } from './types.ts';

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** `03/Dec/2026:17:32:56 +0000` (Apache/nginx `$time_local`), optionally with `.mmm` and no zone. */
export function parseClfDate(s: string, localOffsetMinutes: number): Date {
  const m = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: ([+-])(\d{2})(\d{2}))?$/.exec(s);
  if (!m || MONTHS[m[2]!] === undefined) throw new ParseError(`bad timestamp '${s}'`);
  const offset = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) : localOffsetMinutes;
  const ms = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  return new Date(Date.UTC(+m[3]!, MONTHS[m[2]!]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!, ms) - offset * 60_000);
}

/** `Dec  3 17:32:42 2027 GMT` (OpenSSL's notAfter as nginx prints `$ssl_client_v_end`). */
export function parseOpensslDate(s: string): Date | undefined {
  const m = /^(\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/.exec(s);
  if (!m || MONTHS[m[1]!] === undefined) return undefined;
  return new Date(Date.UTC(+m[6]!, MONTHS[m[1]!]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!));
}

export function validDate(d: Date, what: string): Date {
  if (Number.isNaN(d.getTime())) throw new ParseError(`bad ${what}`);
  return d;
}

/** The CN of an RFC 2253 (`CN=a,O=b`) or OpenSSL oneline (`/O=b/CN=a`) distinguished name. */
export function commonName(dn: string | undefined): string | undefined {
  if (!dn) return undefined;
  const m = /(?:^|[,/])\s*CN=((?:\\.|[^,/])*)/.exec(dn);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}

export function intOrUndefined(s: string | number | undefined | null): number | undefined {
  if (s === undefined || s === null || s === '' || s === '-') return undefined;
  const n = typeof s === 'number' ? s : Number(s);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function nonEmpty(s: string | undefined | null): string | undefined {
  return s === undefined || s === null || s === '' || s === '-' ? undefined : s;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
/** An IP for `source.ip`, or undefined for a unix socket (`@`, `unix:`) or garbage. */
export function ipOrUndefined(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const v = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  if (IPV4.test(v) || (v.includes(':') && /^[0-9a-fA-F:.]+$/.test(v))) return v;
  return undefined;
}

/** `host:port`, `[v6]:port` or a bare address. */
export function splitHostPort(s: string): { ip?: string; port?: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (m && (m[1]!.includes('.') || s.startsWith('['))) return { ip: ipOrUndefined(m[1]), port: intOrUndefined(m[2]) };
  return { ip: ipOrUndefined(s) };
}

/** `url`, `http.request.method` and friends from a request line's method and URI. */
export function httpFields(method: string, uri: string, version?: string): Pick<Fields, 'url' | 'http'> {
  const q = uri.indexOf('?');
  const path = q === -1 ? uri : uri.slice(0, q);
  return {
    url: { path, ...(q === -1 ? {} : { query: uri.slice(q + 1) }) },
    http: { request: { method: method.toUpperCase() }, ...(version ? { version } : {}) },
  };
}

/** Splits a quoted request line `GET /path HTTP/1.1`. */
export function requestLine(s: string): { method: string; uri: string; version?: string } | undefined {
  const m = /^([A-Z]+) (\S+)(?: HTTP\/(\d(?:\.\d)?))?$/.exec(s);
  return m ? { method: m[1]!, uri: m[2]!, ...(m[3] ? { version: m[3] } : {}) } : undefined;
}

export function tlsVersion(protocol: string | undefined): { version?: string; version_protocol?: string } {
  const m = /^(TLS|SSL)v?(\d(?:\.\d)?)$/i.exec(protocol ?? '');
  return m ? { version: m[2]!, version_protocol: m[1]!.toLowerCase() } : {};
}
