import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authFailureBurst as d } from './auth-failure-burst.ts';
import { fixture, runDetector, variant } from './lib/test-helpers.ts';

const [failure] = fixture('auth-failure-burst', 'positive');
const burst = (n: number, gap: number, ip = '203.0.113.9') => Array.from({ length: n }, (_, i) => variant(failure!, i * gap, `f${ip}-${i}`, (x) => { x.source.ip = ip; }));

test('exactly N failures in the window alert once; N-1 do not', () => {
  assert.equal(runDetector(d, burst(4, 10)).length, 0);
  const f = runDetector(d, burst(5, 10));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.count, 5);
  assert.deepEqual(f[0]!.entity, { type: 'source_ip', value: '203.0.113.9' });
  assert.match(f[0]!.summary, /5 failed authentications from 203\.0\.113\.9 within 60 s/);
});

test('window edges: failures spread over more than the window do not add up', () => {
  assert.equal(runDetector(d, burst(5, 15)).length, 0, '5 failures over exactly 60 s: the first has left the window');
  assert.equal(runDetector(d, burst(5, 14)).length, 1, '5 failures within 56 s');
});

test('a longer burst alerts once per window, not per failure', () => {
  assert.equal(runDetector(d, burst(12, 5)).length, 1);
  assert.equal(runDetector(d, burst(30, 5)).length, 3, '145 s of failures: a new alert each 60 s');
});

test('a replayed failure (same event id) is not counted twice', () => {
  const four = burst(4, 10);
  assert.equal(runDetector(d, [...four, four[3]!]).length, 0);
});

test('different sources are counted apart; parameters move the threshold', () => {
  assert.equal(runDetector(d, [...burst(3, 1, '198.51.100.1'), ...burst(3, 1, '198.51.100.2')]).length, 0);
  assert.equal(runDetector(d, burst(3, 1), { threshold: 3 }).length, 1);
});

test('one certificate from an unknown CA alerts on its own, at medium', () => {
  const rogue = fixture('auth-failure-burst', 'positive').at(-1)!;
  const f = runDetector(d, [rogue]);
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'medium');
  assert.match(f[0]!.summary, /unknown CA \(CN=mallory\)/);
});

test('one unknown-CA attempt logged twice by nginx (error and access log) is one alert; a later one alerts again', () => {
  const rogue = fixture('auth-failure-burst', 'positive').at(-1)!;
  const twice = [variant(rogue, 0, 'ca-error-log'), variant(rogue, 0.2, 'ca-access-log')];
  assert.equal(runDetector(d, twice).length, 1);
  assert.equal(runDetector(d, [...twice, variant(rogue, 120, 'ca-later')]).length, 2);
});
