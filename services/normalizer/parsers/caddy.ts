import { httpFields, intOrUndefined, ipOrUndefined, validDate } from './fields.ts';
import { ParseError, type Parsed, type Parser } from './types.ts';

const TLS_VERSIONS: Record<number, string> = { 0x0301: '1.0', 0x0302: '1.1', 0x0303: '1.2', 0x0304: '1.3' };
// IANA ids of the suites Go offers, for tls.cipher.
const CIPHERS: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256', 0x1302: 'TLS_AES_256_GCM_SHA384', 0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xc013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 0xc014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA',
};

interface CaddyLine {
  ts?: number; logger?: string; status?: number; size?: number; bytes_read?: number;
  request?: {
    remote_ip?: string; remote_port?: string; proto?: string; method?: string; uri?: string;
    headers?: Record<string, string[]>;
    tls?: { version?: number; cipher_suite?: number; client_common_name?: string; client_serial?: string };
  };
}

/**
 * Caddy's JSON access log (`log { format json }`). With `client_auth` in a verifying mode every
 * logged request carries a verified certificate, whose CN names the user.
 */
export const caddy: Parser = {
  name: 'caddy',
  detect: (_r, text) => text.startsWith('{') && text.includes('"logger":"http.log.access'),
  parse(_record, text): Parsed {
    let l: CaddyLine;
    try { l = JSON.parse(text) as CaddyLine; } catch (err) { throw new ParseError(`not JSON: ${(err as Error).message}`); }
    const r = l.request;
    if (!r?.method || !r.uri || typeof l.ts !== 'number') throw new ParseError('missing ts, request.method or request.uri');
    const http = httpFields(r.method, r.uri, r.proto?.replace(/^HTTP\//, ''));
    const status = intOrUndefined(l.status);
    const cn = r.tls?.client_common_name || undefined;
    const ua = r.headers?.['User-Agent']?.[0];
    return {
      timestamp: validDate(new Date(Math.round(l.ts * 1000)), 'ts'),
      dataset: 'caddy.access',
      observer: { type: 'proxy', product: 'caddy' },
      kind: 'http',
      request: { method: r.method, uri: r.uri },
      certVerified: Boolean(cn),
      ...(status === 401 || status === 403 ? { authFailure: `HTTP ${status}` } : {}),
      fields: {
        source: { ip: ipOrUndefined(r.remote_ip), port: intOrUndefined(r.remote_port) },
        url: http.url,
        http: { ...http.http, request: { ...http.http!.request, bytes: intOrUndefined(l.bytes_read) }, response: { status_code: status, bytes: intOrUndefined(l.size) } },
        tls: r.tls ? {
          established: true,
          ...(r.tls.version && TLS_VERSIONS[r.tls.version] ? { version: TLS_VERSIONS[r.tls.version], version_protocol: 'tls' } : {}),
          ...(r.tls.cipher_suite && CIPHERS[r.tls.cipher_suite] ? { cipher: CIPHERS[r.tls.cipher_suite] } : {}),
          ...(cn ? { client: { x509: { subject: { common_name: cn }, ...(r.tls.client_serial ? { serial_number: r.tls.client_serial } : {}) }, verify: 'SUCCESS' } } : {}),
        } : undefined,
        user_agent: ua ? { original: ua } : undefined,
      },
    };
  },
};
