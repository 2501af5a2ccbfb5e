import { httpFields, ipOrUndefined, requestLine, validDate } from './fields.ts';
import { ParseError, type Parsed, type Parser } from './types.ts';

const HEAD = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$/;

/** `established`: whether the TLS session came up (a certificate check fails inside a finished handshake). */
interface Rule { re: RegExp; action: string; kind: 'tls' | 'log'; auth?: boolean; established?: boolean; reason: (m: RegExpExecArray) => string }

// What nginx writes, at `error_log ... info`, when a client fails TLS or certificate checks.
const RULES: Rule[] = [
  { re: /client SSL certificate verify error: \((\d+):([^)]*)\)/, action: 'tls.client_certificate.rejected', kind: 'tls', auth: true, established: true, reason: (m) => `client certificate rejected: ${m[2]} (${m[1]})` },
  { re: /client sent no required SSL certificate/, action: 'tls.client_certificate.missing', kind: 'tls', auth: true, established: true, reason: () => 'no client certificate' },
  { re: /SSL_do_handshake\(\) failed \((.*?)\)(?: while|$)/, action: 'tls.handshake.failed', kind: 'tls', reason: (m) => `TLS handshake failed: ${m[1]}` },
  { re: /client sent plain HTTP request to HTTPS port/, action: 'tls.plaintext_request', kind: 'tls', reason: () => 'plain HTTP request to the HTTPS port' },
  { re: /no "ssl_certificate" is defined|no shared cipher/, action: 'tls.handshake.failed', kind: 'tls', reason: () => 'no shared cipher' },
  { re: /(?:connect\(\)|recv\(\)|upstream) .*?(?:failed|timed out|prematurely closed)[^,]*/, action: 'proxy.upstream_error', kind: 'log', reason: (m) => m[0] },
];

/** nginx error log: TLS and certificate failures, upstream errors, and other lines as log events. */
export const nginxError: Parser = {
  name: 'nginx-error',
  detect: (_r, text) => HEAD.test(text),
  parse(_record, text, opts): Parsed {
    const m = HEAD.exec(text);
    if (!m) throw new ParseError('not an nginx error log line');
    const [, y, mo, d, h, mi, s, level, msg] = m;
    const ts = validDate(new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) - opts.localOffsetMinutes * 60_000), 'timestamp');
    const client = /, client: ([^,]+)/.exec(msg!)?.[1];
    const reqText = /, request: "([^"]*)"/.exec(msg!)?.[1];
    const req = reqText ? requestLine(reqText) : undefined;
    const rule = RULES.map((r) => ({ r, m: r.re.exec(msg!) })).find((x) => x.m);
    const http = req ? httpFields(req.method, req.uri, req.version) : undefined;
    return {
      timestamp: ts,
      dataset: 'nginx.error',
      observer: { type: 'proxy', product: 'nginx' },
      kind: rule?.r.kind ?? 'log',
      action: rule?.r.action ?? 'log',
      ...(rule ? { failure: rule.r.reason(rule.m!) } : {}),
      ...(rule?.r.auth ? { authFailure: rule.r.reason(rule.m!) } : {}),
      ...(req ? { request: { method: req.method, uri: req.uri } } : {}),
      fields: {
        message: msg!.replace(/, client: .*$/, ''),
        log: { level: level! },
        source: ipOrUndefined(client) ? { ip: client! } : undefined,
        ...(http ?? {}),
        ...(rule?.r.kind === 'tls' ? { tls: { established: rule.r.established ?? false } } : {}),
      },
    };
  },
};
