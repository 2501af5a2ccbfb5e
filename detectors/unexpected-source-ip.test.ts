import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, runDetector, variant } from './lib/test-helpers.ts';
import { unexpectedSourceIp as d } from './unexpected-source-ip.ts';

const [ok] = fixture('unexpected-source-ip', 'negative');
const from = (ip: string, s: number, id: string, user = 'alice') => variant(ok!, s, id, (x) => { x.source.ip = ip; x.user = { name: user }; });

test('outside the allowed networks is high; reported again only after realert_ms', () => {
  const f = runDetector(d, [from('203.0.113.5', 0, 'a'), from('203.0.113.5', 60, 'b'), from('203.0.113.5', 3700, 'c')]);
  assert.equal(f.filter((x) => x.entity.type === 'source_ip').length, 2);
  assert.match(f[0]!.summary, /outside the allowed networks/);
  assert.equal(runDetector(d, [from('10.1.1.1', 0, 'd')], {}).length, 0);
  assert.equal(runDetector(d, [from('10.1.1.1', 0, 'e')], { allowed_networks: ['192.168.0.0/16'] }).length, 1);
});

test('a new IP for an identity is medium, only after the learning period', () => {
  const p = { learning_ms: 3_600_000 };
  const during = runDetector(d, [from('10.0.0.1', 0, 'a'), from('10.0.0.2', 60, 'b')], p);
  assert.equal(during.length, 0);
  const after = runDetector(d, [from('10.0.0.1', 0, 'a'), from('10.0.0.2', 3600, 'b'), from('10.0.0.2', 3700, 'c')], p);
  assert.deepEqual(after.map((x) => [x.severity, x.entity.value]), [['medium', 'alice']]);
});

test('one IP used by several identities', () => {
  const f = runDetector(d, [from('10.0.0.9', 0, 'a', 'alice'), from('10.0.0.9', 1, 'b', 'bob'), from('10.0.0.9', 2, 'c', 'carol'), from('10.0.0.9', 3, 'd', 'dave')]);
  assert.deepEqual(f.map((x) => x.summary), ['3 identities (alice, bob, carol) used the Podman API from 10.0.0.9']);
});
