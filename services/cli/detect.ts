import fs from 'node:fs';
import readline from 'node:readline';
import { z } from 'zod';
import type { Config } from '../../schemas/config.ts';
import { EcsEvent } from '../../schemas/event.ts';
import { UserError } from '../common/errors.ts';
import { DetectionEngine, enabledDetectors } from '../detector/engine.ts';

/**
 * `podwatch detect`: events as NDJSON (the output of `podwatch normalize`) in, alerts as NDJSON
 * out, with the detectors and parameters the worker uses. Lines that are not valid events are
 * reported on stderr with their line number and skipped.
 */
export async function detectCommand(cfg: Readonly<Config>, args: { detector?: string; input?: string }): Promise<{ alerts: number; skipped: number }> {
  const engine = new DetectionEngine(enabledDetectors(cfg, args.detector));
  let input: NodeJS.ReadableStream = process.stdin;
  if (args.input && args.input !== '-') {
    try { fs.accessSync(args.input, fs.constants.R_OK); } catch (err) { throw new UserError(`cannot read ${args.input} (${(err as NodeJS.ErrnoException).code})`); }
    input = fs.createReadStream(args.input);
  }
  let n = 0;
  const counts = { alerts: 0, skipped: 0 };
  for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (!line.trim()) continue;
    let parsed: unknown;
    try { parsed = JSON.parse(line); } catch { counts.skipped++; process.stderr.write(`podwatch: line ${n}: not JSON, skipped\n`); continue; }
    const r = EcsEvent.safeParse(parsed);
    if (!r.success) { counts.skipped++; process.stderr.write(`podwatch: line ${n}: not a valid event, skipped: ${z.prettifyError(r.error).split('\n')[0]}\n`); continue; }
    for (const a of engine.process(r.data)) {
      counts.alerts++;
      process.stdout.write(`${JSON.stringify(a)}\n`);
    }
  }
  return counts;
}
