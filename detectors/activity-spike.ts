import { z } from 'zod';
import { fingerprint } from './lib/field.ts';
import { ms, type Detector } from './lib/types.ts';

const params = z.strictObject({
  /** Length of one counting bucket. */
  bucket_ms: z.number().int().positive().default(60_000),
  /** A bucket above factor × baseline (and above min_requests) is a spike. */
  factor: z.number().positive().default(10),
  min_requests: z.number().int().positive().default(100),
  /** Buckets of history before the baseline is trusted. */
  warmup_buckets: z.number().int().positive().default(30),
  /** Weight of the newest bucket in the moving average. */
  alpha: z.number().gt(0).lt(1).default(0.05),
});
type P = z.infer<typeof params>;
/**
 * `seen` holds fingerprints (8 hex digits) of the identity's last 128 event ids, so a replayed or
 * re-sent event (they arrive close together) is not counted twice; `evidence` is kept only once
 * the count nears the limit. The worker writes this state to its changelog after every batch, so
 * it must stay small: holding every id of a busy minute made it 15 KB per event written.
 */
interface S { bucket: number; count: number; baseline: number; buckets: number; alerted: number; seen: string[]; evidence: unknown[] }
const SEEN = 128;

/** An identity's request rate far above its own baseline (an exponentially weighted average of its past buckets). */
export const activitySpike: Detector<P, S> = {
  meta: {
    id: 'activity-spike',
    title: 'API activity far above the identity\'s baseline',
    description: 'An identity made many more API requests in one interval than it usually does: a script gone wild, automated enumeration, or a stolen certificate used for bulk access. The baseline is learnt per identity (moving average of past intervals) and only trusted after a warm-up.',
    severity: 'medium',
    tactic: { id: 'TA0007', name: 'Discovery' },
    technique: { id: 'T1613', name: 'Container and Resource Discovery' },
    fields: ['user.name', 'observer.type', 'event.category'],
    falsePositives: ['Deploy days and batch jobs', 'A new automation that has no baseline yet'],
  },
  params,
  ttlMs: (p) => p.bucket_ms * 1440,
  keys: (e) => (e.user?.name && e.observer.type === 'proxy' && e.event.category.includes('api') ? [e.user.name] : []),
  detect(e, state, p, key) {
    const bucket = Math.floor(ms(e) / p.bucket_ms);
    let s: S = state ?? { bucket, count: 0, baseline: 0, buckets: 0, alerted: -1, seen: [], evidence: [] };
    if (bucket > s.bucket) {
      // Close the finished bucket, and the empty ones since, into the baseline.
      let base = s.buckets === 0 ? s.count : s.baseline * (1 - p.alpha) + s.count * p.alpha;
      for (let gap = s.bucket + 1; gap < bucket && gap < s.bucket + 1000; gap++) base *= 1 - p.alpha;
      s = { bucket, count: 0, baseline: base, buckets: s.buckets + (bucket - s.bucket), alerted: s.alerted, seen: s.seen, evidence: [] };
    } else if (bucket < s.bucket) {
      return { findings: [], state: s }; // late event from a closed bucket
    }
    const short = fingerprint(e.event.id);
    if (s.seen.includes(short)) return { findings: [], state: s };
    s.count++;
    s.seen.push(short);
    if (s.seen.length > SEEN) s.seen.shift();
    const limit = Math.max(p.min_requests, p.factor * s.baseline);
    if (s.count > limit - 4 && s.count <= limit) { s.evidence.push(e); if (s.evidence.length > 4) s.evidence.shift(); }
    if (s.count <= limit) return { findings: [], state: s };
    // Past the limit the evidence has served (or cannot serve: warm-up, already alerted).
    const evidence = s.evidence as typeof e[];
    s.evidence = [];
    if (s.buckets >= p.warmup_buckets && s.alerted !== bucket) {
      s.alerted = bucket;
      return {
        findings: [{
          summary: `${key} made ${s.count} API requests within ${Math.round(p.bucket_ms / 1000)} s, ${s.baseline < 1 ? 'against a baseline under 1' : `${Math.round(s.count / s.baseline)}× the baseline of ${s.baseline.toFixed(1)}`}`,
          entity: { type: 'identity', value: key }, evidence: [...evidence, e], count: s.count,
        }],
        state: s,
      };
    }
    return { findings: [], state: s };
  },
};
