import { httpFields, intOrUndefined, ipOrUndefined, parseClfDate, requestLine, tlsVersion } from './fields.ts';
import { ParseError, type Parsed, type Parser } from './types.ts';

const PREFIX = /^(?:\w{3} +\d+ \d\d:\d\d:\d\d (?:\S+ )?haproxy\[\d+\]: )?(\S+):(\d+) \[([^\]]+)\] (.*)$/;
const HTTP = /^(\S+) (\S+)\/(\S+) (\S+) (-?\d+) (\d+) \S+ \S+ (\S{4}) \S+ \S+ (?:\{([^}]*)\} )?(?:\{[^}]*\} )?"([^"]*)"(?: (\d+)\/(\d+)\/(\d+)\/(\d+)\/\d+ (\S*)\/(\S*)\/(\S*))?$/;
const CONN = /^(\S+)\/(\S+): (.*)$/;

// OpenSSL verify codes HAProxy reports in ssl_c_err / ssl_c_ca_err.
const VERIFY: Record<string, string> = {
  '2': 'unable to get issuer certificate', '9': 'certificate is not yet valid', '10': 'certificate has expired',
  '18': 'self-signed certificate', '19': 'self-signed certificate in chain', '20': 'unable to get local issuer certificate (unknown CA)',
  '21': 'unable to verify the first certificate', '23': 'certificate revoked',
};

/**
 * HAProxy `option httpslog` (and `option httplog`) lines, with or without the syslog header.
 * With httpslog the client CN captured by `http-request capture ssl_c_s_dn(CN)` names a user
 * only when HAProxy's own verify codes are 0.
 */
export const haproxy: Parser = {
  name: 'haproxy',
  detect: (_r, text) => /haproxy\[\d+\]: /.test(text) || /^\S+:\d+ \[\d{2}\/\w{3}\/\d{4}:[\d:.]+\] \S+/.test(text),
  parse(_record, text, opts): Parsed {
    const p = PREFIX.exec(text);
    if (!p) throw new ParseError('not an HAProxy log line');
    const [, client, port, date, rest] = p;
    const timestamp = parseClfDate(date!, opts.localOffsetMinutes);
    const source = { ip: ipOrUndefined(client), port: intOrUndefined(port) };
    const observer = { type: 'proxy', product: 'haproxy' };
    const h = HTTP.exec(rest!);
    if (!h) {
      const c = CONN.exec(rest!);
      if (!c) throw new ParseError('unrecognised HAProxy line');
      const msg = c[3]!;
      const handshake = /SSL handshake failure|SSL client CA chain cannot be verified|Connection closed during SSL handshake/i.test(msg);
      return {
        timestamp, dataset: 'haproxy.log', observer, kind: handshake ? 'tls' : 'log',
        action: handshake ? 'tls.handshake.failed' : 'log',
        ...(handshake ? { failure: `TLS handshake failed: ${msg}` } : {}),
        fields: { source, message: msg, ...(handshake ? { tls: { established: false } } : {}) },
      };
    }
    const [, frontend, , , , statusText, bytes, , capture, reqText, , , certErr, caErr, sni, version, cipher] = h;
    const req = requestLine(reqText!);
    if (!req) throw new ParseError(`unparseable request line "${reqText}"`);
    const status = intOrUndefined(statusText);
    const cn = capture?.trim() || undefined;
    const sslFields = certErr !== undefined;
    const certError = sslFields && (certErr !== '0' || caErr !== '0') ? VERIFY[certErr !== '0' ? certErr! : caErr!] ?? `verify error ${certErr}/${caErr}` : undefined;
    let authFailure: string | undefined;
    if (certError) authFailure = `client certificate rejected: ${certError}`;
    else if (sslFields && !cn && (status === 403 || status === 401)) authFailure = 'no client certificate';
    else if (status === 401 || status === 403 || status === 495 || status === 496) authFailure = `HTTP ${status}`;
    const http = httpFields(req.method, req.uri, req.version);
    const tls = frontend!.endsWith('~') || Boolean(version);
    return {
      timestamp, dataset: 'haproxy.log', observer, kind: 'http',
      request: { method: req.method, uri: req.uri },
      certVerified: sslFields && !certError && Boolean(cn),
      ...(authFailure ? { authFailure } : {}),
      fields: {
        source,
        url: http.url,
        http: { ...http.http, response: { status_code: status, bytes: intOrUndefined(bytes) } },
        tls: tls ? {
          established: true,
          ...tlsVersion(version),
          ...(cipher ? { cipher } : {}),
          ...(cn ? { client: { x509: { subject: { common_name: cn } }, ...(sslFields ? { verify: certError ? `FAILED:${certError}` : 'SUCCESS' } : {}) } } : {}),
        } : undefined,
        ...(sni ? { labels: { tls_sni: sni } } : {}),
      },
    };
  },
};
