import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CATALOGUE, lookupOperation } from './catalogue.ts';

function prefixes(api: 'libpod' | 'compat' | 'both'): Array<[string, 'libpod' | 'compat']> {
  const lib: Array<[string, 'libpod']> = [['/v4.0.0/libpod', 'libpod'], ['/v5.2.1/libpod', 'libpod'], ['/libpod', 'libpod']];
  const compat: Array<[string, 'compat']> = [['/v1.41', 'compat'], ['/v1.24', 'compat'], ['', 'compat']];
  return api === 'libpod' ? lib : api === 'compat' ? compat : [...lib, ...compat];
}

describe('every catalogue entry maps from every route that serves it', () => {
  for (const entry of CATALOGUE) {
    test(`${entry.method} ${entry.path} (${entry.api}) → ${entry.operation}`, () => {
      const path = entry.path.replace('{name}', 'web-1').replace('{id}', 'f00dcafe');
      for (const [prefix, flavour] of prefixes(entry.api)) {
        const m = lookupOperation(entry.method, prefix + path);
        assert.equal(m.operation, entry.operation, `${entry.method} ${prefix}${path}`);
        assert.equal(m.flavour, flavour);
        assert.equal(m.risk, entry.risk);
        if (entry.path.includes('{')) assert.ok(m.target === 'web-1' || m.target === 'f00dcafe');
      }
    });
  }
});

test('versioned and unversioned paths agree, and the version is kept', () => {
  assert.deepEqual(lookupOperation('POST', '/v1.41/containers/web/exec'), { operation: 'container.exec.create', flavour: 'compat', version: '1.41', risk: 'exec', target: 'web' });
  assert.equal(lookupOperation('POST', '/containers/web/exec').operation, 'container.exec.create');
  assert.equal(lookupOperation('POST', '/v4.9.3/libpod/containers/web/exec').version, '4.9.3');
});

test('literal routes win over {name} routes', () => {
  assert.equal(lookupOperation('GET', '/v4.0.0/libpod/containers/json').operation, 'container.list');
  assert.equal(lookupOperation('POST', '/containers/prune').operation, 'container.prune');
  assert.equal(lookupOperation('POST', '/containers/create').operation, 'container.create');
});

test('secret inspect with showsecret=true is marked and counts as exfiltration', () => {
  const plain = lookupOperation('GET', '/v4.0.0/libpod/secrets/db-pass/json', '');
  assert.equal(plain.risk, 'read');
  assert.equal(plain.showsecret, undefined);
  const shown = lookupOperation('GET', '/v4.0.0/libpod/secrets/db-pass/json', 'showsecret=true');
  assert.equal(shown.showsecret, true);
  assert.equal(shown.risk, 'data-exfiltration');
});

test('unknown paths and methods map to unknown', () => {
  assert.equal(lookupOperation('GET', '/v4.0.0/libpod/nope').operation, 'unknown');
  assert.equal(lookupOperation('GET', '/v4.0.0/libpod/nope').flavour, 'libpod');
  assert.equal(lookupOperation('PATCH', '/containers/web/start').operation, 'unknown');
  assert.equal(lookupOperation('GET', '/favicon.ico').operation, 'unknown');
});

test('a trailing slash and percent-encoding do not hide an operation', () => {
  assert.equal(lookupOperation('POST', '/v1.41/containers/web/exec/').operation, 'container.exec.create');
  assert.equal(lookupOperation('POST', '/v1.41/containers/w%65b/exec').target, 'web');
});
