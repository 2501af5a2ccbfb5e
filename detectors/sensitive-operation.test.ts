import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, runDetector, variant } from './lib/test-helpers.ts';
import { sensitiveOperation as d } from './sensitive-operation.ts';

test('archive download and showsecret are reported with what happened', () => {
  const f = runDetector(d, fixture('sensitive-operation', 'positive'));
  assert.deepEqual(f.map((x) => x.summary), ['bob performed container.archive.get (data-exfiltration) on web', 'alice read a secret\'s value (showsecret=true)']);
});

test('a privileged container or host mounts seen in a create event', () => {
  const [list] = fixture('sensitive-operation', 'negative');
  const create = variant(list!, 0, 'c', (x) => {
    x.event.action = 'container.create'; x.observer = { type: 'container-engine', product: 'podman' };
    x.podman = { event: { status: 'create', type: 'container' }, container: { privileged: false, host_mounts: ['/etc'] } };
    x.container = { name: 'evil' };
  });
  assert.match(runDetector(d, [create])[0]!.summary, /host mounts \/etc on evil/);
  assert.equal(runDetector(d, [create], { tiers: ['data-exfiltration'] }).length, 1, 'create checks are not tier-based');
});
