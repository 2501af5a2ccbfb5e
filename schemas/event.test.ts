import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { EcsEvent } from './event.ts';

const valid = {
  '@timestamp': '2026-12-01T10:00:00.123Z',
  event: {
    id: 'a1', kind: 'event', category: ['web', 'api'], type: ['access'], action: 'container.exec.create',
    outcome: 'success', dataset: 'nginx.access', ingested: '2026-12-01T10:00:01.000Z',
  },
  source: { ip: '10.1.2.3', port: 51234 },
  user: { name: 'alice' },
  tls: {
    established: true, version: '1.3', cipher: 'TLS_AES_256_GCM_SHA384',
    client: {
      hash: { sha256: 'a'.repeat(64) }, not_after: '2027-01-01T00:00:00.000Z',
      x509: { subject: { distinguished_name: 'CN=alice,O=Ops', common_name: 'alice' }, issuer: { distinguished_name: 'CN=Podman CA' }, serial_number: '1F' },
    },
  },
  http: { request: { method: 'POST', id: 'req-1', bytes: 120 }, response: { status_code: 201, bytes: 80 } },
  url: { path: '/v4.0.0/libpod/containers/web/exec', query: '' },
  user_agent: { original: 'curl/7.88' },
  container: { name: 'web' },
  host: { name: 'podhost' },
  observer: { type: 'proxy', product: 'nginx' },
  related: { ip: ['10.1.2.3'], user: ['alice'] },
  podman: { api: { operation: 'container.exec.create', flavour: 'libpod', version: '4.0.0', risk: 'exec' } },
};

test('a complete ECS-shaped event passes and keeps its fields', () => {
  const e = EcsEvent.parse(valid);
  assert.equal(e.user?.name, 'alice');
  assert.equal(e.event.module, 'podwatch');
  assert.equal(e.podman?.api?.risk, 'exec');
});

test('an IPv6 source passes; a hostname in source.ip does not', () => {
  assert.ok(EcsEvent.safeParse({ ...valid, source: { ip: '::1' } }).success);
  const r = EcsEvent.safeParse({ ...valid, source: { ip: 'example.org' } });
  assert.equal(r.success, false);
  assert.match(z.prettifyError(r.error!), /source\.ip/);
});

test('wrong types are rejected with a readable path', () => {
  const r = EcsEvent.safeParse({ ...valid, http: { response: { status_code: '200' } } });
  assert.equal(r.success, false);
  const msg = z.prettifyError(r.error!);
  assert.match(msg, /http\.response\.status_code/);
  assert.match(msg, /expected number/);
});

test('unknown top-level and nested fields are rejected', () => {
  const top = EcsEvent.safeParse({ ...valid, surprise: 1 });
  assert.equal(top.success, false);
  assert.match(z.prettifyError(top.error!), /surprise/);
  const nested = EcsEvent.safeParse({ ...valid, user: { name: 'a', nmae: 'typo' } });
  assert.equal(nested.success, false);
});

test('outcome, category and timestamp are constrained to ECS values', () => {
  assert.equal(EcsEvent.safeParse({ ...valid, event: { ...valid.event, outcome: 'ok' } }).success, false);
  assert.equal(EcsEvent.safeParse({ ...valid, event: { ...valid.event, category: ['nonsense'] } }).success, false);
  assert.equal(EcsEvent.safeParse({ ...valid, '@timestamp': '01/Dec/2026:10:00:00' }).success, false);
});
