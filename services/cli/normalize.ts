import { createHash } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import type { Config } from '../../schemas/config.ts';
import type { RawRecord } from '../../schemas/raw.ts';
import { UserError } from '../common/errors.ts';
import { normalizeContext, normalizeRecord } from '../normalizer/normalize.ts';
import { FORMAT_NAMES } from '../normalizer/parsers/index.ts';

export interface NormalizeArgs { format: string; source: string; dlq?: string; input?: string }

/** A raw record for one input line, as the collector would have made it. */
function recordFor(line: string, offset: number, args: NormalizeArgs, host: string): RawRecord {
  let journal: Record<string, unknown> | undefined;
  if (line.startsWith('{') && (args.format === 'auto' || args.format === 'journald')) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o.__CURSOR === 'string' || typeof o.__REALTIME_TIMESTAMP === 'string') journal = o;
    } catch { /* not JSON: a plain line */ }
  }
  const path = args.input && args.input !== '-' ? args.input : undefined;
  const id = createHash('sha256').update(`${host}\0${args.source}\0${path ?? 'stdin'}\0${offset}\0${line}`).digest('hex').slice(0, 32);
  return {
    id,
    source: { type: journal ? 'journald' : 'file', name: args.source, format: args.format === 'journald' ? 'auto' : args.format },
    host,
    ...(path ? { path } : {}),
    position: journal && typeof journal.__CURSOR === 'string' ? { cursor: journal.__CURSOR } : { offset },
    ...(journal ? { journal } : { line }),
    encoding: 'utf8',
    truncated: false,
    collected_at: new Date().toISOString(),
  };
}

/**
 * `podwatch normalize`: raw lines in, one event per line (NDJSON) on stdout, dead letters with
 * their reason to --dlq (default stderr). The same code as the normalizer service.
 */
export async function normalizeCommand(cfg: Readonly<Config>, args: NormalizeArgs): Promise<{ events: number; dead: number }> {
  if (!FORMAT_NAMES.includes(args.format) && args.format !== 'journald') {
    throw new UserError(`unknown --format '${args.format}'; one of: ${[...FORMAT_NAMES, 'journald'].join(', ')}`);
  }
  let input: NodeJS.ReadableStream;
  if (!args.input || args.input === '-') input = process.stdin;
  else {
    try {
      fs.accessSync(args.input, fs.constants.R_OK);
    } catch (err) {
      throw new UserError(`cannot read ${args.input} (${(err as NodeJS.ErrnoException).code})`);
    }
    input = fs.createReadStream(args.input);
  }
  const dlq = args.dlq ? fs.createWriteStream(args.dlq) : process.stderr;
  const ctx = normalizeContext(cfg.normalizer);
  const host = cfg.host.name!;
  let offset = 0;
  const counts = { events: 0, dead: 0 };
  for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
    const raw = recordFor(line, offset, args, host);
    offset += Buffer.byteLength(line) + 1;
    const out = normalizeRecord(raw, ctx);
    if (out.ok) {
      counts.events++;
      if (!process.stdout.write(`${JSON.stringify(out.event)}\n`)) await new Promise((r) => process.stdout.once('drain', r));
    } else {
      counts.dead++;
      dlq.write(`${JSON.stringify(out.dead)}\n`);
    }
  }
  if (dlq !== process.stderr) await new Promise((r) => (dlq as fs.WriteStream).end(r));
  return counts;
}
