import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import type { RawRecord } from '../../schemas/raw.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from '../helpers/log.ts';
import { expectStartupRefusal, spawnPodwatch, type Proc } from '../helpers/process.ts';
import { KAFKA_SECURE, stackConfig } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

// The stack broker's SASL_SSL listener requires a client certificate signed by its CA and a
// SCRAM-SHA-512 login; the services reach it only through their configuration.
const t = KAFKA_SECURE.tlsDir;
const password = fs.readFileSync(path.join(t, 'password'), 'utf8').trim();
const cfg = stackConfig();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-kafka-tls-'));
const procs: Proc[] = [];
after(async () => { for (const p of procs) await p.stop('SIGKILL'); });

const goodTls = { enabled: true, ca_file: path.join(t, 'ca.crt'), cert_file: path.join(t, 'client.crt'), key_file: path.join(t, 'client.key') };
const goodSasl = { mechanism: 'scram-sha-512', username: 'podwatch', password_file: path.join(t, 'password') };

function configFile(name: string, kafka: object, log: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, stringify({
    log: { level: 'debug' },
    kafka: { brokers: [KAFKA_SECURE.brokers], topics: { ...cfg.kafka.topics }, ...kafka },
    collector: { checkpoint_dir: path.join(dir, `${name}-cp`), start_at: 'beginning', poll_interval_ms: 50, http: { port: 0 }, sources: [{ type: 'file', name: 'proxy', paths: [log] }] },
  }));
  return file;
}

test('the collector ships through TLS with a client certificate and SCRAM-SHA-512, its password read from a file and never logged', async () => {
  const log = path.join(dir, 'access.log');
  fs.writeFileSync(log, Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(''));
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  const p = spawnPodwatch(['run', 'collector', '--config', configFile('good', { tls: goodTls, sasl: goodSasl }, log)]);
  procs.push(p);
  await p.waitForOutput(/collector started/);
  // Read back through the plaintext listener: the records really went through the broker.
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  await topic.waitForCount(100, 30_000);
  assert.deepEqual(topic.json<RawRecord>().map((r) => r.line).sort(), Array.from({ length: 100 }, (_, i) => `line ${i}`).sort());
  await topic.stop();
  assert.equal(await p.stop(), 0);
  assert.ok(!p.output().includes(password), 'the SASL password appears in no log line, even at debug');
});

test('a refused password, a missing client certificate or an untrusted CA stops a service at start, naming the field', async () => {
  const log = path.join(dir, 'unused.log');
  fs.writeFileSync(log, '');
  const wrongPassword = path.join(dir, 'wrong-password');
  fs.writeFileSync(wrongPassword, 'not-the-password\n');
  const cases: Array<[string, object, RegExp]> = [
    ['wrong-password', { tls: goodTls, sasl: { ...goodSasl, password_file: wrongPassword } }, /kafka\.sasl: the broker refused user 'podwatch' \(scram-sha-512\)/],
    ['no-client-cert', { tls: { enabled: true, ca_file: goodTls.ca_file }, sasl: goodSasl }, /kafka\.tls: the TLS connection to 127\.0\.0\.1:\d+ failed on a certificate: the broker rejected our client certificate/],
    ['untrusted-ca', { tls: { ...goodTls, ca_file: undefined }, sasl: goodSasl }, /kafka\.tls: the TLS connection to 127\.0\.0\.1:\d+ failed on a certificate: self-signed certificate in certificate chain/],
  ];
  for (const [name, kafka, expected] of cases) {
    const p = spawnPodwatch(['run', 'normalizer', '--config', configFile(name, kafka, log)]);
    procs.push(p);
    await expectStartupRefusal(p, name, expected, 'not-the-password', 60_000);
  }
});
