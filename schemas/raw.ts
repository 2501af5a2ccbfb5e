import { z } from 'zod';
import { Timestamp } from './common.ts';

/** What a collector writes to `podwatch.raw`: one line of a file or one journal entry, untouched. */
export const RawRecord = z.strictObject({
  /** Deterministic: the same line at the same position always gets the same id. */
  id: z.string().min(1),
  source: z.strictObject({
    type: z.enum(['file', 'journald']),
    name: z.string().min(1),
    /** Parser hint from the source's config (`auto` lets the normalizer detect it). */
    format: z.string().default('auto'),
  }),
  host: z.string().min(1),
  path: z.string().optional(),
  unit: z.string().optional(),
  position: z.strictObject({
    dev: z.number().int().optional(),
    inode: z.number().int().optional(),
    offset: z.number().int().nonnegative().optional(),
    cursor: z.string().optional(),
  }),
  /** The line without its newline; base64 when it was not valid UTF-8. */
  line: z.string().optional(),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
  truncated: z.boolean().default(false),
  /** Length in bytes before truncation. */
  length: z.number().int().nonnegative().optional(),
  /** A journal entry as `journalctl -o json` prints it. */
  journal: z.record(z.string(), z.unknown()).optional(),
  collected_at: Timestamp,
});

export type RawRecord = z.infer<typeof RawRecord>;
export type RawRecordInput = z.input<typeof RawRecord>;
