import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, runDetector, variant } from './lib/test-helpers.ts';
import { proxyBypass as d } from './proxy-bypass.ts';

test('a Podman request without a proxy record is reported once its window has passed', () => {
  const f = runDetector(d, fixture('proxy-bypass', 'positive'));
  assert.equal(f.length, 1);
  assert.match(f[0]!.summary, /^Podman on podhost served POST \/v4\.0\.0\/libpod\/containers\/web\/exec \(container\.exec\.create\) that the proxy never saw$/);
  assert.equal(f[0]!.evidence[0]!.event.id, 'pb-p-direct');
});

test('matched in either order within the window: no finding', () => {
  assert.equal(runDetector(d, fixture('proxy-bypass', 'negative')).length, 0);
});

test('window edge: a proxy record just outside the window does not match', () => {
  const [proxy, podman, , later] = fixture('proxy-bypass', 'negative');
  const late = variant(podman!, 5.5, 'late-podman');
  assert.equal(runDetector(d, [variant(proxy!, 0, 'p0'), late, variant(later!, 30, 'l')]).length, 1);
  assert.equal(runDetector(d, [variant(proxy!, 0, 'p0'), late, variant(later!, 30, 'l')], { window_ms: 6000 }).length, 0);
});
