import { z } from 'zod';
import { Timestamp } from './common.ts';

/** What any stage writes to `podwatch.dlq` for a record it could not process. */
export const DeadLetter = z.strictObject({
  '@timestamp': Timestamp,
  stage: z.enum(['collector', 'normalizer', 'detector', 'alerter', 'indexer']),
  reason: z.string().min(1),
  /** The parser or sink that was tried. */
  component: z.string().optional(),
  issues: z.array(z.string()).default([]),
  /** The record as it arrived, base64 when it was not UTF-8. */
  original: z.string(),
  original_encoding: z.enum(['utf8', 'base64']).default('utf8'),
  topic: z.string().optional(),
  partition: z.number().int().optional(),
  offset: z.string().optional(),
});

export type DeadLetter = z.infer<typeof DeadLetter>;
