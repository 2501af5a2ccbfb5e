import { commonName, httpFields, intOrUndefined, ipOrUndefined, validDate } from './fields.ts';
import { ParseError, type Parsed, type Parser } from './types.ts';

type Line = Record<string, unknown>;

/**
 * Traefik's JSON access log (`accessLog.format: json`). `TLSClientSubject` is present when
 * the router requires and verifies client certificates; its CN names the user.
 */
export const traefik: Parser = {
  name: 'traefik',
  detect: (_r, text) => text.startsWith('{') && text.includes('"RequestMethod"') && text.includes('"ClientHost"'),
  parse(_record, text): Parsed {
    let l: Line;
    try { l = JSON.parse(text) as Line; } catch (err) { throw new ParseError(`not JSON: ${(err as Error).message}`); }
    const str = (k: string) => (typeof l[k] === 'string' && l[k] !== '' ? (l[k] as string) : undefined);
    const method = str('RequestMethod');
    const path = str('RequestPath');
    if (!method || !path) throw new ParseError('missing RequestMethod or RequestPath');
    const status = intOrUndefined(l.DownstreamStatus as number);
    const subject = str('TLSClientSubject');
    const http = httpFields(method, path, str('RequestProtocol')?.replace(/^HTTP\//, ''));
    const version = str('TLSVersion');
    return {
      timestamp: validDate(new Date(str('StartUTC') ?? str('time') ?? ''), 'StartUTC'),
      dataset: 'traefik.access',
      observer: { type: 'proxy', product: 'traefik' },
      kind: 'http',
      request: { method, uri: path },
      certVerified: Boolean(subject),
      ...(status === 401 || status === 403 ? { authFailure: `HTTP ${status}` } : {}),
      fields: {
        source: { ip: ipOrUndefined(str('ClientHost')), port: intOrUndefined(str('ClientPort')) },
        url: http.url,
        http: {
          ...http.http,
          request: { ...http.http!.request, id: str('request_X-Reference-Id') ?? str('downstream_X-Reference-Id'), bytes: intOrUndefined(l.RequestContentSize as number) },
          response: { status_code: status, bytes: intOrUndefined(l.DownstreamContentSize as number) },
        },
        tls: version ? {
          established: true, version, version_protocol: 'tls', cipher: str('TLSCipher'),
          ...(subject ? { client: { x509: { subject: { distinguished_name: subject, common_name: commonName(subject) } }, verify: 'SUCCESS' } } : {}),
        } : undefined,
        user_agent: str('request_User-Agent') ? { original: str('request_User-Agent')! } : undefined,
      },
    };
  },
};
