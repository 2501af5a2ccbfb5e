import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Alert } from '../../schemas/alert.ts';
import { fixture, variant } from '../../detectors/lib/test-helpers.ts';
import { ConfigError, parseConfig } from '../common/config.ts';
import { DetectionEngine, enabledDetectors } from './engine.ts';

const exec = fixture('container-exec', 'positive')[0]!;

test('alerts are valid, carry ATT&CK and evidence, and their id depends only on detector and evidence', () => {
  const engine = new DetectionEngine(enabledDetectors(parseConfig({})));
  const [a] = engine.process(exec);
  assert.ok(Alert.safeParse(a).success);
  assert.equal(a!.rule.id, 'container-exec');
  assert.equal(a!.threat.technique.id, 'T1609');
  assert.deepEqual(a!.alert.event_ids, [exec.event.id]);
  assert.equal(a!.user?.name, 'alice');
  const again = new DetectionEngine(enabledDetectors(parseConfig({}))).process(exec);
  assert.equal(again[0]!.alert.id, a!.alert.id, 'same evidence, same alert id');
});

test('replaying a burst through restored state produces no second alert', () => {
  const failures = fixture('auth-failure-burst', 'positive').slice(0, 5);
  const engine = new DetectionEngine(enabledDetectors(parseConfig({})));
  const first = failures.flatMap((e) => engine.process(e)).filter((a) => a.rule.id === 'auth-failure-burst');
  assert.equal(first.length, 1);
  const replay = failures.flatMap((e) => engine.process(e)).filter((a) => a.rule.id === 'auth-failure-burst');
  assert.equal(replay.length, 0);
});

test('exceptions are data: ci-bot may exec into build-* containers; suppressions are counted', () => {
  const suppressed: string[] = [];
  const cfg = parseConfig({ detectors: { 'container-exec': { exceptions: [{ reason: 'CI runs tests in build containers', match: [
    { field: 'user.name', op: 'eq', values: ['ci-bot'] }, { field: 'container.name', op: 'glob', values: ['build-*'] }] }] } } });
  const engine = new DetectionEngine(enabledDetectors(cfg), { suppressed: (d, r) => suppressed.push(`${d}: ${r}`) });
  const ci = (name: string, id: string) => variant(exec, 0, id, (x) => { x.user.name = 'ci-bot'; x.related.user = ['ci-bot']; x.container.name = name; });
  assert.equal(engine.process(ci('build-42', 'x1')).length, 0);
  assert.equal(engine.process(ci('db', 'x2')).length, 1, 'only build-* is excepted');
  assert.deepEqual(suppressed, ['container-exec: CI runs tests in build containers']);
  const net = parseConfig({ detectors: { 'unexpected-source-ip': { exceptions: [{ reason: 'partner VPN', match: [{ field: 'source.ip', op: 'cidr', values: ['203.0.113.0/24'] }] }] } } });
  const outside = variant(exec, 0, 'o1', (x) => { x.source.ip = '203.0.113.7'; });
  assert.equal(new DetectionEngine(enabledDetectors(net)).process(outside).filter((a) => a.rule.id === 'unexpected-source-ip').length, 0);
});

test('detector settings are validated: unknown ids and bad parameters name the field', () => {
  assert.throws(() => enabledDetectors(parseConfig({ detectors: { 'no-such': {} } })), (e: Error) => e instanceof ConfigError && /detectors\.no-such/.test(e.message));
  assert.throws(() => enabledDetectors(parseConfig({ detectors: { 'auth-failure-burst': { params: { threshold: 'five' } } } })),
    /detectors\.auth-failure-burst\.params\.threshold/);
  assert.equal(enabledDetectors(parseConfig({ detectors: { 'container-exec': { enabled: false } } })).some((x) => x.detector.meta.id === 'container-exec'), false);
});

test('idle state expires by event time; the number of keys per detector is capped', () => {
  const engine = new DetectionEngine(enabledDetectors(parseConfig({})), {}, 2);
  const failures = ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((ip, i) => variant(fixture('auth-failure-burst', 'negative')[0]!, i, `k${i}`, (x) => { x.source.ip = ip; }));
  for (const e of failures) engine.process(e);
  assert.deepEqual(engine.expire().filter((k) => k.startsWith('auth-failure-burst|')), ['auth-failure-burst|ip:198.51.100.1'], 'the oldest key over the cap');
  engine.process(variant(exec, 3600, 'late'));
  const gone = engine.expire();
  assert.ok(gone.includes('auth-failure-burst|ip:198.51.100.2'), 'window state idle for an hour expired');
  assert.ok(engine.states.has('container-exec|alice'), 'first-seen memory is kept for 90 days');
});
