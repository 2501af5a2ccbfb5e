import { parseCombined } from './combined.ts';
import { validDate } from './fields.ts';
import { ParseError, type Parsed, type Parser, type ParseOptions } from './types.ts';
import type { RawRecord } from '../../../schemas/raw.ts';

const LOGRUS = /^time="([^"]+)" level=(\w+) msg="((?:[^"\\]|\\.)*)"/;
const observer = { type: 'container-engine', product: 'podman' };

/** The text of a journal entry's MESSAGE (journald gives bytes as an array of numbers). */
export function journalMessage(record: RawRecord): string | undefined {
  const m = record.journal?.MESSAGE;
  if (typeof m === 'string') return m;
  if (Array.isArray(m)) return Buffer.from(m as number[]).toString('utf8');
  return undefined;
}

export function journalTime(record: RawRecord): Date | undefined {
  const t = record.journal?.__REALTIME_TIMESTAMP;
  return typeof t === 'string' && /^\d+$/.test(t) ? new Date(Math.floor(Number(t) / 1000)) : undefined;
}

function isPodmanJournal(record: RawRecord): boolean {
  const j = record.journal;
  if (!j) return false;
  return j.SYSLOG_IDENTIFIER === 'podman' || /^podman\.(service|socket)$/.test(String(j._SYSTEMD_UNIT ?? '')) || String(j._COMM ?? '') === 'podman';
}

/**
 * Podman API service's own log (`podman system service --log-level=info`): one Apache combined
 * line per request (client `@` on a unix socket), plus logrus lines (`time=... level=... msg=...`).
 */
export const podmanApi: Parser = {
  name: 'podman-api',
  detect: (record, text) => (record.journal ? isPodmanJournal(record) && !record.journal.PODMAN_EVENT : true)
    && (/^\S+ - \S+ \[[^\]]+\] "[A-Z]+ /.test(text) && (text.startsWith('@ ') || Boolean(record.journal)) || LOGRUS.test(text)),
  parse(record, text, opts: ParseOptions): Parsed {
    const logrus = LOGRUS.exec(text);
    if (logrus) {
      const level = logrus[2]!;
      return {
        timestamp: validDate(new Date(logrus[1]!), 'time'),
        dataset: 'podman.service',
        observer,
        kind: 'log',
        action: 'log',
        ...(level === 'error' || level === 'fatal' ? { failure: logrus[3]! } : {}),
        fields: { message: logrus[3]!.replace(/\\"/g, '"'), log: { level } },
      };
    }
    const parsed = parseCombined(text, opts, 'podman.api', observer);
    const jt = journalTime(record);
    if (jt) parsed.timestamp = jt;
    return parsed;
  },
};

export function parseJsonOrFail(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ParseError('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw new ParseError(`not JSON: ${(err as Error).message}`);
  }
}
