import { httpFields, intOrUndefined, ipOrUndefined, nonEmpty, parseClfDate, requestLine } from './fields.ts';
import { ParseError, type Parsed, type Parser, type ParseOptions } from './types.ts';

// host ident user [time] "request" status bytes "referer" "agent"
const COMBINED = /^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?/;

/** Apache/nginx combined (and common) format; `@` as the client means Podman's unix socket. */
export function parseCombined(text: string, opts: ParseOptions, dataset: string, observer: { type: string; product: string }): Parsed {
  const m = COMBINED.exec(text);
  if (!m) throw new ParseError('not a combined/common log line');
  const req = requestLine(m[5]!.replace(/\\"/g, '"'));
  if (!req) throw new ParseError(`unparseable request line "${m[5]}"`);
  const status = intOrUndefined(m[6]);
  const http = httpFields(req.method, req.uri, req.version);
  const user = nonEmpty(m[3]);
  return {
    timestamp: parseClfDate(m[4]!, opts.localOffsetMinutes),
    dataset,
    observer,
    kind: 'http',
    request: { method: req.method, uri: req.uri },
    ...(status === 401 || status === 403 || status === 495 || status === 496 ? { authFailure: `HTTP ${status}` } : {}),
    fields: {
      source: ipOrUndefined(m[1]) ? { ip: m[1]! } : undefined,
      // The remote user of basic auth, as the proxy verified it.
      user: user ? { name: user } : undefined,
      url: http.url,
      http: { ...http.http, response: { status_code: status, bytes: intOrUndefined(m[7]) } },
      user_agent: nonEmpty(m[9]) ? { original: m[9]!.replace(/\\"/g, '"') } : undefined,
    },
  };
}

export const combined: Parser = {
  name: 'nginx-combined',
  detect: (_r, text) => COMBINED.test(text) && !text.startsWith('@ '),
  parse: (_r, text, opts) => parseCombined(text, opts, 'nginx.access', { type: 'proxy', product: 'nginx' }),
};
