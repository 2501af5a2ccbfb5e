import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerExec as d } from './container-exec.ts';
import { fixture, runDetector, variant } from './lib/test-helpers.ts';

const [exec] = fixture('container-exec', 'positive');

test('the first exec of an identity is high, later ones medium', () => {
  const f = runDetector(d, [exec!, variant(exec!, 60, 'e2'), variant(exec!, 120, 'e3', (x) => { x.user.name = 'bob'; x.related.user = ['bob']; })]);
  assert.deepEqual(f.map((x) => [x.entity.value, x.severity]), [['alice', 'high'], ['alice', 'medium'], ['bob', 'high']]);
  assert.match(f[0]!.summary, /^alice exec'd into web .*for the first time$/);
});

test('failed execs, Podman\'s own API log line and the events-file exec are not counted again', () => {
  assert.equal(runDetector(d, fixture('container-exec', 'negative')).length, 0);
});

test('an exec from the podman CLI (journald event with its command line) is reported with the command', () => {
  const cli = variant(exec!, 0, 'cli', (x) => {
    x.event.action = 'container.exec'; x.event.dataset = 'podman.events'; x.observer = { type: 'container-engine', product: 'podman' };
    delete x.user; delete x.source; delete x.http; delete x.url; delete x.tls; x.related = {};
    x.podman = { event: { status: 'exec', type: 'container' }, exec: { command: ['sh', '-c', 'cat /etc/shadow'], privileged: false, tty: false } };
  });
  const [f] = runDetector(d, [cli]);
  assert.match(f!.summary, /exec'd into web \(sh -c cat \/etc\/shadow\)/);
});
