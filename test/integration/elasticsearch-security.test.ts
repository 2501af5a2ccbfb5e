import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createElasticsearch } from '../../services/common/elasticsearch.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from '../helpers/log.ts';
import { expectStartupRefusal, spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { ES_URL, stackConfig, uniq } from '../helpers/stack.ts';

// The test node (Elasticsearch 7.10 without X-Pack) has no security of its own. A real nginx in
// front of it terminates TLS with a certificate from a test CA and refuses requests without the
// right basic-auth or API-key header with Elasticsearch's 401 security_exception, so the
// client's TLS and credential settings meet a real TLS server and a real credential check.
const PORT = 18920;
const lab = fileURLToPath(new URL('../lab/', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-es-tls-'));
const pki = path.join(dir, 'pki');
const password = randomBytes(12).toString('hex');
const apiKey = Buffer.from(`podwatch-id:${randomBytes(12).toString('hex')}`).toString('base64');
const namespace = uniq('essec').replace(/-/g, '_');
const cfg = stackConfig({ elasticsearch: { namespace } });
const procs: Proc[] = [];
let nginx = false;
after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  if (nginx) spawnSync('nginx', ['-c', path.join(dir, 'nginx.conf'), '-s', 'stop']);
  const es = createElasticsearch(cfg.elasticsearch!);
  await es.indices.delete({ index: `podwatch-*-${namespace}*` }).catch(() => undefined);
  await es.close();
});

function startNginx(): void {
  execFileSync('bash', [`${lab}pki.sh`, pki]);
  const basic = Buffer.from(`podwatch:${password}`).toString('base64');
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  access_log ${dir}/access.log;
  client_max_body_size 50m;
  map_hash_bucket_size 256;
  # Bodies and responses stay in memory: the workers (www-data) cannot write in the test's private directory.
  client_body_buffer_size 50m; proxy_max_temp_file_size 0;
  map $http_authorization $authorized { "Basic ${basic}" 1; "ApiKey ${apiKey}" 1; default 0; }
  server {
    listen 127.0.0.1:${PORT} ssl;
    ssl_certificate ${pki}/server.crt; ssl_certificate_key ${pki}/server.key;
    location / {
      default_type application/json;
      if ($authorized = 0) {
        return 401 '{"error":{"type":"security_exception","reason":"unable to authenticate user for REST request [$request_uri]"},"status":401}';
      }
      proxy_set_header Authorization "";
      proxy_pass ${ES_URL};
    }
  }
}
`);
  execFileSync('nginx', ['-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')]);
  nginx = true;
}

function configFile(name: string, es: object): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, stringify({
    log: { level: 'debug' },
    kafka: { brokers: cfg.kafka.brokers, group_prefix: cfg.kafka.group_prefix, topics: { ...cfg.kafka.topics } },
    elasticsearch: { url: `https://127.0.0.1:${PORT}`, namespace, ...es },
    indexer: { http: { port: 0 } },
  }));
  return file;
}
const tls = () => ({ ca_file: path.join(pki, 'server-ca.crt') });

test('the indexer writes through TLS with basic auth (password from a file, never logged); search reads with an API key', async () => {
  startNginx();
  const passwordFile = path.join(dir, 'es-password');
  fs.writeFileSync(passwordFile, `${password}\n`);
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['events']);
  // Real events: the normalizer's output for the captured nginx access log.
  const capture = fileURLToPath(new URL('../fixtures/proxies/nginx-access.json.log', import.meta.url));
  const events = execFileSync(process.execPath, [fileURLToPath(new URL('../../bin/podwatch.js', import.meta.url)), 'normalize', '--format', 'nginx-json', capture, '--dlq', path.join(dir, 'dlq.ndjson')], { encoding: 'utf8' })
    .trim().split('\n').map((l) => JSON.parse(l) as { event: { id: string } });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: cfg.kafka.topics.events, acks: -1, messages: events.map((e) => ({ key: e.event.id, value: JSON.stringify(e) })) });
  await producer.disconnect();

  const indexer = spawnPodwatch(['run', 'indexer', '--config', configFile('indexer', { ...tls(), username: 'podwatch' })], { env: { PODWATCH_ES_PASSWORD_FILE: passwordFile } });
  procs.push(indexer);
  await indexer.waitForOutput(/indexer started/);
  const search = () => spawnSync(process.execPath, [fileURLToPath(new URL('../../bin/podwatch.js', import.meta.url)), 'search', '*', '--json', '--limit', '1000', '--since', '3650d',
    '--config', configFile('search', { ...tls(), api_key: apiKey })], { encoding: 'utf8' });
  await waitUntil(() => search().stdout.trim().split('\n').filter(Boolean).length >= events.length, 60_000, `${events.length} events searchable`);
  const found = search().stdout.trim().split('\n').map((l) => (JSON.parse(l) as { event: { id: string } }).event.id);
  assert.deepEqual(found.sort(), events.map((e) => e.event.id).sort());
  assert.equal(await indexer.stop(), 0);
  assert.ok(!indexer.output().includes(password), 'the password appears in no log line, even at debug');
  assert.match(fs.readFileSync(path.join(dir, 'access.log'), 'utf8'), /"POST \/_bulk/, 'the documents went through the TLS proxy');
});

test('refused credentials or an untrusted certificate stop the indexer and the search command, naming the field', async () => {
  const wrong = path.join(dir, 'wrong-password');
  fs.writeFileSync(wrong, 'not-the-password\n');
  const cases: Array<[string, object, Record<string, string>, RegExp]> = [
    ['wrong-password', { ...tls(), username: 'podwatch' }, { PODWATCH_ES_PASSWORD_FILE: wrong }, /elasticsearch\.username\/password: https:\/\/127\.0\.0\.1:\d+ refused the credentials \(401\): unable to authenticate user/],
    ['no-credentials', tls(), {}, /elasticsearch: https:\/\/127\.0\.0\.1:\d+ requires authentication \(401\)/],
    ['untrusted-ca', { username: 'podwatch' }, { PODWATCH_ES_PASSWORD_FILE: wrong }, /elasticsearch\.ca_file: the TLS connection to https:\/\/127\.0\.0\.1:\d+ failed on a certificate: .*(self[- ]signed|unable to (verify|get local issuer))/],
  ];
  for (const [name, es, env, expected] of cases) {
    const p = spawnPodwatch(['run', 'indexer', '--config', configFile(name, es)], { env });
    procs.push(p);
    await expectStartupRefusal(p, name, expected, 'not-the-password', 30_000);
  }
  const search = spawnSync(process.execPath, [fileURLToPath(new URL('../../bin/podwatch.js', import.meta.url)), 'search', '*',
    '--config', configFile('search-wrong', { ...tls(), api_key: Buffer.from('podwatch-id:wrong').toString('base64') })], { encoding: 'utf8' });
  assert.equal(search.status, 2, search.stderr);
  assert.match(search.stderr, /^podwatch: elasticsearch\.api_key: https:\/\/127\.0\.0\.1:\d+ refused the credentials \(401\)/);
});
