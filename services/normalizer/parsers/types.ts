import type { EcsEventInput } from '../../../schemas/event.ts';
import type { RawRecord } from '../../../schemas/raw.ts';

/** ECS fields a parser fills; the normalizer adds id, category/type/outcome, identity and enrichment. */
export type Fields = Omit<EcsEventInput, 'event' | '@timestamp' | 'observer'>;

/** What one parser makes of one record. */
export interface Parsed {
  timestamp: Date;
  dataset: string;
  observer: { type: string; product: string };
  /** What happened, for category/type/action: an HTTP request, a TLS failure, a Podman event, or a log line. */
  kind: 'http' | 'tls' | 'podman-event' | 'log';
  fields: Fields;
  /** Set when the record is a failed authentication (certificate or credentials), with the reason. */
  authFailure?: string;
  /** For `tls` and `log` kinds: the action name and, when the record is a failure, why. */
  action?: string;
  failure?: string;
  /** Whether the client certificate was verified by the proxy (only then does it name a user). */
  certVerified?: boolean;
  /** `method` + `uri` of an HTTP request, for the catalogue. */
  request?: { method: string; uri: string };
}

export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}

export interface Parser {
  name: string;
  /** Cheap test whether a record looks like this format (for `format: auto`). */
  detect(record: RawRecord, text: string): boolean;
  parse(record: RawRecord, text: string, opts: ParseOptions): Parsed;
}

export interface ParseOptions {
  /** Offset of the local time zone that error logs and syslog stamps are written in, in minutes east of UTC. */
  localOffsetMinutes: number;
}
