import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PostureEndpoint } from '../../schemas/config.ts';
import { assess, observe } from '../../services/scheduler/posture.ts';

const lab = fileURLToPath(new URL('../lab/', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-posture-'));
const pki = path.join(dir, 'pki');
let started = false;
after(() => { if (started) spawnSync('nginx', ['-c', path.join(dir, 'nginx.conf'), '-s', 'stop']); });

const PORTS = { good: 18441, plain: 18442, legacy: 18443, legacyPlain: 18444 };

/**
 * One real nginx, three faces of the same API: hardened (TLS 1.2+, client certificate required),
 * one that also serves plain HTTP, and a legacy one (TLS 1.0, no client certificate, a server
 * certificate that expires in 5 days, weak ciphers allowed).
 */
function startNginx(): void {
  execFileSync('bash', [`${lab}pki.sh`, pki]);
  const q = (...a: string[]) => execFileSync('openssl', a, { cwd: pki, stdio: 'ignore' });
  q('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'short.key', '-out', 'short.csr', '-subj', '/CN=short-lived');
  q('x509', '-req', '-in', 'short.csr', '-CA', 'server-ca.crt', '-CAkey', 'server-ca.key', '-CAcreateserial', '-out', 'short.crt', '-days', '5', '-extfile', 'server.ext');
  const api = `location / { default_type text/plain; return 200 "OK"; }`;
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  access_log off;
  server {
    listen 127.0.0.1:${PORTS.good} ssl;
    ssl_certificate ${pki}/server.crt; ssl_certificate_key ${pki}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ${fs.readFileSync(fileURLToPath(new URL('../../deploy/nginx/podman-api.conf', import.meta.url)), 'utf8').match(/ssl_ciphers [^;]+;/)![0]}
    ssl_client_certificate ${pki}/ca.crt; ssl_verify_client on;
    ${api}
  }
  server { listen 127.0.0.1:${PORTS.plain}; ${api} }
  server {
    listen 127.0.0.1:${PORTS.legacy} ssl;
    ssl_certificate ${pki}/short.crt; ssl_certificate_key ${pki}/short.key;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
    ssl_ciphers ALL:@SECLEVEL=0;
    ${api}
  }
}
`);
  execFileSync('nginx', ['-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')]);
  started = true;
}

const endpoint = (o: object) => PostureEndpoint.parse({ host: '127.0.0.1', ca_file: path.join(pki, 'server-ca.crt'), ...o });

test('posture: hardened, plaintext-answering and legacy endpoints are each reported for what they are', async () => {
  startNginx();
  const good = endpoint({ name: 'hardened', port: PORTS.good });
  const og = await observe(good, 3000);
  assert.equal(og.tls_versions['TLSv1.2']?.accepted, true);
  assert.equal(og.tls_versions['TLSv1.3']?.accepted, true);
  assert.equal(og.tls_versions.TLSv1?.accepted, false);
  assert.equal(og.answered_without_client_cert, false, `nginx refused the request (status ${og.status_without_client_cert})`);
  assert.equal(og.status_without_client_cert, 400);
  assert.deepEqual(og.plaintext_answered, [], 'plain HTTP to the TLS port gets 400, not the API');
  assert.equal(og.certificate?.trusted, true);
  assert.ok(og.certificate!.days_left > 700);
  assert.deepEqual(assess(good, og), []);

  const plain = endpoint({ name: 'with-plaintext', port: PORTS.good, plaintext_ports: [PORTS.good, PORTS.plain] });
  const op = await observe(plain, 3000);
  assert.deepEqual(op.plaintext_answered, [PORTS.plain]);
  assert.deepEqual(assess(plain, op).map((f) => f.check), ['plaintext']);

  const legacy = endpoint({ name: 'legacy', port: PORTS.legacy, ca_file: path.join(pki, 'ca.crt') });
  const ol = await observe(legacy, 3000);
  const checks = assess(legacy, ol).map((f) => f.check);
  // Whether this OpenSSL still speaks TLS 1.0 at all decides the first finding; say which.
  const tls10 = ol.tls_versions.TLSv1?.accepted === true;
  process.stdout.write(`# posture: TLS 1.0 ${tls10 ? 'accepted by the legacy nginx' : `not negotiable with this OpenSSL (${ol.tls_versions.TLSv1?.error})`}; weak ciphers accepted: ${ol.weak_ciphers_accepted.join(', ') || 'none'}\n`);
  assert.deepEqual(checks, [...(tls10 || ol.tls_versions['TLSv1.1']?.accepted ? ['tls_version'] : []), ...(ol.weak_ciphers_accepted.length ? ['weak_ciphers'] : []), 'client_cert', 'certificate_expiry', 'certificate_chain']);
  assert.ok(ol.weak_ciphers_accepted.length > 0, 'ALL:@SECLEVEL=0 lets a suite without forward secrecy through');
  assert.ok(ol.certificate!.days_left <= 5 && ol.certificate!.days_left >= 4);
  assert.equal(ol.answered_without_client_cert, true);

  const down = endpoint({ name: 'down', port: 18449 });
  assert.deepEqual(assess(down, await observe(down, 1000)).map((f) => f.check), ['unreachable']);
});
