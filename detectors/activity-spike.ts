import { z } from 'zod';
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
/** `seen` holds the current bucket's event ids (up to 5,000) so a replay is not counted twice. */
interface S { bucket: number; count: number; baseline: number; buckets: number; alerted: number; seen: Record<string, 1>; evidence: unknown[] }

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
    let s: S = state ?? { bucket, count: 0, baseline: 0, buckets: 0, alerted: -1, seen: {}, evidence: [] };
    if (bucket > s.bucket) {
      // Close the finished bucket, and the empty ones since, into the baseline.
      let base = s.buckets === 0 ? s.count : s.baseline * (1 - p.alpha) + s.count * p.alpha;
      for (let gap = s.bucket + 1; gap < bucket && gap < s.bucket + 1000; gap++) base *= 1 - p.alpha;
      s = { bucket, count: 0, baseline: base, buckets: s.buckets + (bucket - s.bucket), alerted: s.alerted, seen: {}, evidence: [] };
    } else if (bucket < s.bucket) {
      return { findings: [], state: s }; // late event from a closed bucket
    }
    if (s.seen[e.event.id]) return { findings: [], state: s };
    s.count++;
    if (s.count <= 5_000) s.seen[e.event.id] = 1;
    if (s.evidence.length < 4) s.evidence.push(e);
    const limit = Math.max(p.min_requests, p.factor * s.baseline);
    if (s.buckets >= p.warmup_buckets && s.count > limit && s.alerted !== bucket) {
      s.alerted = bucket;
      return {
        findings: [{
          summary: `${key} made ${s.count} API requests within ${Math.round(p.bucket_ms / 1000)} s, ${s.baseline < 1 ? 'against a baseline under 1' : `${Math.round(s.count / s.baseline)}× the baseline of ${s.baseline.toFixed(1)}`}`,
          entity: { type: 'identity', value: key }, evidence: [...(s.evidence as typeof e[]), e], count: s.count,
        }],
        state: s,
      };
    }
    return { findings: [], state: s };
  },
};
