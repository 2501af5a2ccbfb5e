import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../common/config.ts';
import type { EcsEvent } from '../../../schemas/event.ts';
import type { RawRecord } from '../../../schemas/raw.ts';
import { normalizeContext, normalizeRecord } from '../normalize.ts';

// Fixtures captured from real nginx, HAProxy, Caddy and Podman by test/fixtures/proxies/make-fixtures.sh.
const dir = fileURLToPath(new URL('../../../test/fixtures/proxies/', import.meta.url));
const ctx = normalizeContext(parseConfig({ normalizer: { local_timezone: 'UTC' } }).normalizer, () => new Date('2026-12-03T18:00:00.000Z'));

function events(file: string, format = 'auto'): EcsEvent[] {
  return fs.readFileSync(dir + file, 'utf8').split('\n').filter(Boolean).map((line, i) => {
    const raw: RawRecord = {
      id: `${file}:${i}`, source: { type: 'file', name: 'fixture', format }, host: 'podhost', path: `/var/log/${file}`,
      position: { offset: i }, line, encoding: 'utf8', truncated: false, collected_at: '2026-12-03T18:00:00.000Z',
    };
    const out = normalizeRecord(raw, ctx);
    assert.ok(out.ok, `${file}:${i + 1} went to the dead-letter topic: ${!out.ok && out.dead.reason} ${!out.ok && out.dead.issues.join(' ')}`);
    return out.event;
  });
}
const by = (es: EcsEvent[], action: string) => es.filter((e) => e.event.action === action);

describe('nginx JSON access log (reference format)', () => {
  const es = events('nginx-access.json.log');
  test('verified client certificates name the user; TLS and timing fields are mapped', () => {
    const info = es[0]!;
    assert.equal(info.event.dataset, 'nginx.access');
    assert.equal(info.user?.name, 'alice');
    assert.equal(info.tls?.version, '1.3');
    assert.equal(info.tls?.client?.x509?.issuer?.distinguished_name, 'CN=Podwatch Test Client CA,O=Podwatch Test');
    assert.match(info.tls!.client!.hash!.sha1!, /^[0-9a-f]{40}$/);
    assert.match(info['@timestamp'], /\.\d{3}Z$/);
    assert.ok(info.http?.request?.id, 'X-Reference-Id from upstream or the request id');
    assert.deepEqual(info.related, { ip: ['127.0.0.1'], user: ['alice'] });
  });
  test('exec, archive and showsecret requests get their operation and risk tier', () => {
    assert.equal(by(es, 'container.exec.create')[0]!.container?.name, 'web');
    assert.equal(by(es, 'container.exec.create')[0]!.podman?.api?.risk, 'exec');
    assert.ok(by(es, 'container.exec.start')[0]!.podman?.exec?.session_id);
    assert.equal(by(es, 'container.archive.get')[0]!.user?.name, 'bob');
    const secret = by(es, 'secret.inspect')[0]!;
    assert.equal(secret.podman?.api?.showsecret, true);
    assert.equal(secret.podman?.api?.risk, 'data-exfiltration');
    assert.equal(by(es, 'container.list').find((e) => e.user?.name === 'bob')?.podman?.api?.flavour, 'compat');
  });
  test('missing, wrong-CA, revoked and expired certificates are authentication failures without a user', () => {
    const failures = es.filter((e) => e.event.category.includes('authentication'));
    assert.deepEqual(failures.map((e) => e.event.reason), [
      'no client certificate',
      'client certificate rejected: unable to verify the first certificate',
      'client certificate rejected: certificate revoked',
      'client certificate rejected: certificate has expired',
    ]);
    for (const f of failures) {
      assert.equal(f.event.outcome, 'failure');
      assert.equal(f.user, undefined, 'an unverified certificate never names a user');
    }
    assert.equal(failures[1]!.tls?.client?.x509?.subject?.common_name, 'mallory');
  });
  test('unknown paths are still events, with operation unknown', () => {
    const unknown = by(es, 'unknown');
    assert.equal(unknown.length, 1);
    assert.equal(unknown[0]!.url?.path, '/v4.0.0/libpod/nosuchthing');
  });
});

describe('nginx error log', () => {
  const es = events('nginx-error.log');
  test('certificate failures, the TLS 1.0 attempt and plaintext HTTP are recognised', () => {
    assert.deepEqual(es.filter((e) => e.event.action !== 'log').map((e) => [e.event.action, e.event.category.includes('authentication')]), [
      ['tls.client_certificate.missing', true],
      ['tls.client_certificate.rejected', true],
      ['tls.client_certificate.rejected', true],
      ['tls.client_certificate.rejected', true],
      ['tls.handshake.failed', false],
      ['tls.plaintext_request', false],
    ]);
    const downgrade = by(es, 'tls.handshake.failed')[0]!;
    assert.match(downgrade.event.reason!, /unsupported protocol/);
    assert.equal(downgrade.source?.ip, '127.0.0.1');
    assert.equal(es[0]!['@timestamp'].slice(0, 10), '2026-12-03');
    // A certificate check fails inside a finished handshake: TLS was up (not "plaintext").
    assert.deepEqual(es.filter((e) => e.tls).map((e) => e.tls!.established), [true, true, true, true, false, false]);
  });
});

describe('nginx combined access log', () => {
  const es = events('nginx-access.combined.log');
  test('requests map to operations; no certificate data means no user', () => {
    assert.equal(by(es, 'container.exec.create').length, 1);
    assert.ok(es.every((e) => e.user === undefined && e.source?.ip === '127.0.0.1'));
  });
});

describe('HAProxy httpslog', () => {
  const es = events('haproxy.log');
  test('the captured CN names the user only when HAProxy verified it', () => {
    assert.equal(by(es, 'container.exec.create')[0]!.user?.name, 'alice');
    const failures = es.filter((e) => e.event.category.includes('authentication'));
    assert.deepEqual(failures.map((e) => [e.event.reason, e.user?.name ?? null]), [
      ['no client certificate', null],
      ['client certificate rejected: unable to get local issuer certificate (unknown CA)', null],
      ['client certificate rejected: certificate revoked', null],
      ['client certificate rejected: certificate has expired', null],
    ]);
    assert.equal(by(es, 'tls.handshake.failed').length, 2, 'the TLS 1.0 attempt and the plaintext request');
    assert.equal(es[0]!.tls?.cipher, 'TLS_AES_256_GCM_SHA384');
  });
});

describe('Caddy JSON access log', () => {
  const es = events('caddy.log');
  test('client CN, TLS version and cipher from the numeric ids', () => {
    assert.equal(es[0]!.user?.name, 'alice');
    assert.equal(es[0]!.tls?.version, '1.3');
    assert.equal(es[0]!.tls?.cipher, 'TLS_AES_128_GCM_SHA256');
    // Caddy 2.6 has no CRL check: the revoked certificate of carol was let through (a finding, not a parser bug).
    assert.ok(es.some((e) => e.user?.name === 'carol' && e.event.outcome === 'success'));
  });
});

describe('Traefik JSON access log', () => {
  const es = events('traefik.log');
  test('fields from the documented JSON access log', () => {
    assert.equal(es[0]!.user?.name, 'alice');
    assert.equal(es[0]!.event.action, 'container.exec.create');
    assert.equal(es[1]!.event.reason, 'HTTP 403');
  });
});

describe('Podman', () => {
  test('the API service request log: unix-socket client, operations', () => {
    const es = events('podman-api.log');
    assert.equal(es[0]!.event.dataset, 'podman.api');
    assert.equal(es[0]!.source, undefined, '@ is the unix socket, not an address');
    assert.ok(by(es, 'container.exec.create').length >= 1);
    assert.equal(es[0]!.observer.product, 'podman');
  });
  test('events file JSON: container lifecycle and exec', () => {
    const es = events('podman-events.json.log');
    const exec = by(es, 'container.exec')[0]!;
    assert.equal(exec.container?.name, 'web');
    assert.match(exec.container!.id!, /^[0-9a-f]{64}$/);
    assert.deepEqual(exec.event.category, ['process']);
    assert.equal(exec.podman?.event?.status, 'exec');
    assert.match(exec['@timestamp'], /^2026-12-03T\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
  test('other service lines are log events with their level', () => {
    const es = events('podman-service-other.log');
    assert.ok(es.every((e) => e.event.action === 'log' && e.log?.level));
  });
});
