import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, runDetector } from './lib/test-helpers.ts';
import { tlsHandshakeFailures as d } from './tls-handshake-failures.ts';

test('N handshake failures in the window alert once; N-1 do not', () => {
  const p = fixture('tls-handshake-failures', 'positive');
  assert.equal(runDetector(d, p.slice(0, 9)).length, 0);
  const f = runDetector(d, p);
  assert.equal(f.length, 1);
  assert.equal(f[0]!.count, 10);
  assert.equal(runDetector(d, p.slice(0, 5), { threshold: 5 }).length, 1);
});
