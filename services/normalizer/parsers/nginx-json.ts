import { commonName, intOrUndefined, ipOrUndefined, nonEmpty, parseOpensslDate, tlsVersion, validDate } from './fields.ts';
import { ParseError, type Parsed, type Parser } from './types.ts';

type Line = Record<string, string | undefined>;

/**
 * nginx access log in the recommended JSON format (deploy/nginx/podwatch-log-format.conf).
 * The client certificate names a user only when nginx verified it (`ssl_client_verify` SUCCESS).
 */
export const nginxJson: Parser = {
  name: 'nginx-json',
  detect: (_r, text) => text.startsWith('{') && text.includes('"request_method"') && text.includes('"remote_addr"'),
  parse(_record, text): Parsed {
    let l: Line;
    try {
      l = JSON.parse(text) as Line;
    } catch (err) {
      throw new ParseError(`not JSON: ${(err as Error).message}`);
    }
    if (typeof l !== 'object' || l === null || !l.request_method || !l.request_uri) throw new ParseError('missing request_method or request_uri');
    const ts = l.msec ? new Date(Math.round(Number(l.msec) * 1000)) : new Date(l.time ?? '');
    const verify = nonEmpty(l.ssl_client_verify);
    const verified = verify === 'SUCCESS';
    const status = intOrUndefined(l.status);
    const subject = nonEmpty(l.ssl_client_s_dn);
    const notAfter = nonEmpty(l.ssl_client_v_end) ? parseOpensslDate(l.ssl_client_v_end!) : undefined;
    const fingerprint = nonEmpty(l.ssl_client_fingerprint);
    const tlsOn = Boolean(nonEmpty(l.ssl_protocol));
    let authFailure: string | undefined;
    if (verify?.startsWith('FAILED')) authFailure = `client certificate rejected: ${verify.slice('FAILED:'.length) || 'verify failed'}`;
    else if (status === 400 && tlsOn && verify === 'NONE') authFailure = 'no client certificate';
    else if (status === 401 || status === 403 || status === 495 || status === 496) authFailure = `HTTP ${status}`;
    const q = l.request_uri.indexOf('?');
    const tls = tlsVersion(l.ssl_protocol);
    // Members left undefined are dropped by the normalizer; no spreads keeps this path cheap.
    return {
      timestamp: validDate(ts, 'msec/time'),
      dataset: 'nginx.access',
      observer: { type: 'proxy', product: 'nginx' },
      kind: 'http',
      request: { method: l.request_method, uri: l.request_uri },
      certVerified: verified,
      authFailure,
      fields: {
        source: { ip: ipOrUndefined(l.remote_addr), port: intOrUndefined(l.remote_port) },
        url: { path: q === -1 ? l.request_uri : l.request_uri.slice(0, q), query: q === -1 ? undefined : l.request_uri.slice(q + 1) },
        http: {
          request: { method: l.request_method.toUpperCase(), id: nonEmpty(l.upstream_reference_id) ?? nonEmpty(l.request_id), bytes: intOrUndefined(l.request_length) },
          response: { status_code: status, bytes: intOrUndefined(l.body_bytes_sent) },
          version: /HTTP\/(\S+)/.exec(l.server_protocol ?? '')?.[1],
        },
        tls: tlsOn || subject ? {
          established: tlsOn,
          version: tls.version,
          version_protocol: tls.version_protocol,
          cipher: nonEmpty(l.ssl_cipher),
          client: subject || verify ? {
            hash: fingerprint ? { sha1: fingerprint.toLowerCase() } : undefined,
            not_after: notAfter?.toISOString(),
            x509: subject ? {
              subject: { distinguished_name: subject, common_name: commonName(subject) },
              issuer: { distinguished_name: nonEmpty(l.ssl_client_i_dn) },
              serial_number: nonEmpty(l.ssl_client_serial),
            } : undefined,
            verify,
          } : undefined,
        } : undefined,
        user_agent: nonEmpty(l.http_user_agent) ? { original: l.http_user_agent! } : undefined,
      },
    };
  },
};
