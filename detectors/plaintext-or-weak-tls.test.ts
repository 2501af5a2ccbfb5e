import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, runDetector, variant } from './lib/test-helpers.ts';
import { plaintextOrWeakTls as d } from './plaintext-or-weak-tls.ts';

test('plaintext to the TLS port and an old TLS version are reported', () => {
  const f = runDetector(d, fixture('plaintext-or-weak-tls', 'positive'));
  assert.deepEqual(f.map((x) => x.summary.replace(/^\S+ /, '')), ['sent a plaintext HTTP request to the TLS port', 'used TLS 1.0, below the minimum 1.2']);
});

test('a weak cipher and the minimum version are configurable; repeats wait for realert_ms', () => {
  const [ok] = fixture('plaintext-or-weak-tls', 'negative');
  const rc4 = variant(ok!, 0, 'rc4', (x) => { x.tls.cipher = 'RC4-SHA'; });
  assert.equal(runDetector(d, [rc4]).length, 1);
  assert.equal(runDetector(d, [ok!], { min_tls_version: '1.3' }).length, 0, 'the fixture uses TLS 1.3');
  const v12 = variant(ok!, 0, 'v12', (x) => { x.tls.version = '1.2'; });
  assert.equal(runDetector(d, [v12, variant(v12, 10, 'v12b')], { min_tls_version: '1.3' }).length, 1);
});
