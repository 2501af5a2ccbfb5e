import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activitySpike as d } from './activity-spike.ts';
import { fixture, runDetector, variant } from './lib/test-helpers.ts';

test('a minute far above the learnt baseline alerts once; a busy but normal minute does not', () => {
  const f = runDetector(d, fixture('activity-spike', 'positive'));
  assert.equal(f.length, 1);
  assert.match(f[0]!.summary, /^alice made 101 API requests within 60 s, 20× the baseline of 5\.0$/);
  assert.equal(runDetector(d, fixture('activity-spike', 'negative')).length, 0);
});

test('no alert during the warm-up, however busy', () => {
  const [e] = fixture('activity-spike', 'positive');
  const burst = Array.from({ length: 500 }, (_, i) => variant(e!, i * 0.1, `w${i}`));
  assert.equal(runDetector(d, burst).length, 0);
  assert.equal(runDetector(d, burst, { warmup_buckets: 1 }).length, 0, 'still inside the first bucket: no history at all');
});

test('threshold edge: exactly factor × baseline is not a spike, one more is', () => {
  const calm = fixture('activity-spike', 'negative').slice(0, 200);
  const at = (n: number) => [...calm, ...Array.from({ length: n }, (_, i) => variant(calm[0]!, 40 * 60 + i * 0.2, `edge${n}-${i}`))];
  assert.equal(runDetector(d, at(50), { min_requests: 10 }).length, 0);
  assert.equal(runDetector(d, at(51), { min_requests: 10 }).length, 1);
});
