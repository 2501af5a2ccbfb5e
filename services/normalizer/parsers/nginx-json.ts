import { commonName, httpFields, intOrUndefined, ipOrUndefined, nonEmpty, parseOpensslDate, tlsVersion, validDate } from './fields.ts';
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
    const http = httpFields(l.request_method, l.request_uri, /HTTP\/(\S+)/.exec(l.server_protocol ?? '')?.[1]);
    return {
      timestamp: validDate(ts, 'msec/time'),
      dataset: 'nginx.access',
      observer: { type: 'proxy', product: 'nginx' },
      kind: 'http',
      request: { method: l.request_method, uri: l.request_uri },
      certVerified: verified,
      ...(authFailure ? { authFailure } : {}),
      fields: {
        source: { ip: ipOrUndefined(l.remote_addr), port: intOrUndefined(l.remote_port) },
        url: http.url,
        http: {
          ...http.http,
          request: { ...http.http!.request, id: nonEmpty(l.upstream_reference_id) ?? nonEmpty(l.request_id), bytes: intOrUndefined(l.request_length) },
          response: { status_code: status, bytes: intOrUndefined(l.body_bytes_sent) },
        },
        tls: tlsOn || subject ? {
          established: tlsOn,
          ...tlsVersion(l.ssl_protocol),
          cipher: nonEmpty(l.ssl_cipher),
          client: subject || verify ? {
            ...(fingerprint ? { hash: { sha1: fingerprint.toLowerCase() } } : {}),
            ...(notAfter ? { not_after: notAfter.toISOString() } : {}),
            ...(subject ? {
              x509: {
                subject: { distinguished_name: subject, common_name: commonName(subject) },
                issuer: { distinguished_name: nonEmpty(l.ssl_client_i_dn) },
                serial_number: nonEmpty(l.ssl_client_serial),
              },
            } : {}),
            verify,
          } : undefined,
        } : undefined,
        user_agent: nonEmpty(l.http_user_agent) ? { original: l.http_user_agent! } : undefined,
      },
    };
  },
};
