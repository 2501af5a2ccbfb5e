import type { RawRecord } from '../../../schemas/raw.ts';
import { caddy } from './caddy.ts';
import { combined } from './combined.ts';
import { haproxy } from './haproxy.ts';
import { nginxError } from './nginx-error.ts';
import { nginxJson } from './nginx-json.ts';
import { podmanApi } from './podman-api.ts';
import { podmanEvent } from './podman-event.ts';
import { traefik } from './traefik.ts';
import type { Parser } from './types.ts';

/** In detection order: the most specific first. */
export const PARSERS: readonly Parser[] = [podmanEvent, nginxJson, caddy, traefik, podmanApi, nginxError, haproxy, combined];

const BY_NAME = new Map(PARSERS.map((p) => [p.name, p]));
// Names a source's `format:` may use besides the parser names.
BY_NAME.set('nginx-access', nginxJson);
BY_NAME.set('podman-events', podmanEvent);
BY_NAME.set('apache-combined', combined);

export const FORMAT_NAMES = ['auto', ...BY_NAME.keys()];

/** The parser for a record: the source's format, or detected from the content. */
export function pickParser(format: string, record: RawRecord, text: string): Parser | undefined {
  if (format !== 'auto') return BY_NAME.get(format);
  return PARSERS.find((p) => p.detect(record, text));
}
