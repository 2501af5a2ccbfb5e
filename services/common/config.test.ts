import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from './config.ts';

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-config-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

test('no config at all gives the embedded defaults, frozen', () => {
  const cfg = loadConfig([], {});
  assert.deepEqual(cfg.kafka.brokers, ['127.0.0.1:19092']);
  assert.equal(cfg.kafka.topics.raw, 'podwatch.raw');
  assert.equal(cfg.collector.start_at, 'end');
  assert.ok(cfg.host.name);
  assert.ok(Object.isFrozen(cfg.kafka.topics));
});

test('a missing required field is named', () => {
  const f = tmpFile('c.yaml', 'collector:\n  sources:\n    - type: file\n      name: nginx\n');
  assert.throws(() => loadConfig(['--config', f], {}), (err: Error) =>
    err instanceof ConfigError && /collector\.sources\[0\]\.paths/.test(err.message) && !/\n\s+at /.test(err.message));
});

test('a wrong type is named with the reason', () => {
  assert.throws(() => parseConfig({ kafka: { topics: { partitions: 'six' } } }), (err: Error) =>
    /kafka\.topics\.partitions/.test(err.message) && /expected number/.test(err.message));
  assert.throws(() => parseConfig({ kafka: { brokers: ['no-port'] } }), /kafka\.brokers\[0\][\s\S]*|expected host:port/);
});

test('an unknown key is rejected (a typo never passes silently)', () => {
  assert.throws(() => parseConfig({ kafak: {} }), /kafak/);
});

test('an unreadable secret file fails naming the field or variable', () => {
  assert.throws(() => parseConfig({ kafka: { sasl: { mechanism: 'plain', username: 'u', password_file: '/nonexistent/secret' } } }),
    (err: Error) => err instanceof ConfigError && /kafka\.sasl\.password_file/.test(err.message) && /ENOENT/.test(err.message));
  assert.throws(() => parseConfig({}, { PODWATCH_ES_PASSWORD_FILE: '/nonexistent/pw' }), /PODWATCH_ES_PASSWORD_FILE/);
});

test('secrets come from *_file keys and *_FILE variables, without the trailing newline', () => {
  const secret = tmpFile('pw', 's3cret\n');
  const cfg = parseConfig({ kafka: { sasl: { mechanism: 'scram-sha-512', username: 'u', password_file: secret } } });
  assert.equal(cfg.kafka.sasl?.password, 's3cret');
  const viaEnv = parseConfig({}, { PODWATCH_ES_API_KEY_FILE: secret, PODWATCH_KAFKA_BROKERS: 'a:1, b:2' });
  assert.equal(viaEnv.elasticsearch?.api_key, 's3cret');
  assert.deepEqual(viaEnv.kafka.brokers, ['a:1', 'b:2']);
});

test('invalid YAML and a missing file are reported as configuration errors', () => {
  assert.throws(() => loadConfig(['--config', tmpFile('bad.yaml', 'kafka: [unclosed')], {}), (e: Error) => e instanceof ConfigError && /not valid YAML/.test(e.message));
  assert.throws(() => loadConfig([], { PODWATCH_CONFIG: '/nonexistent.yaml' }), /cannot read config file \/nonexistent\.yaml \(ENOENT\)/);
});

test('alerter: a route to an unknown channel, email without smtp and a duplicate name are named', () => {
  assert.throws(() => parseConfig({ alerter: { routes: [{ channels: ['pager'] }] } }), (e: unknown) => e instanceof ConfigError && /alerter\.routes\[0\]\.channels\[0\]/.test(e.message) && /no channel named pager/.test(e.message));
  assert.throws(() => parseConfig({ alerter: { channels: [{ type: 'email', name: 'm', to: ['a@example.org'] }] } }), (e: unknown) => e instanceof ConfigError && /alerter\.smtp/.test(e.message));
  assert.throws(() => parseConfig({ alerter: { channels: [{ type: 'webhook', name: 'h', url: 'http://a/' }, { type: 'webhook', name: 'h', url: 'http://b/' }] } }), (e: unknown) => e instanceof ConfigError && /used twice/.test(e.message));
  assert.throws(() => parseConfig({ alerter: { channels: [{ type: 'webhook', name: 'h', url: 'http://a/', secret: 'short' }] } }), (e: unknown) => e instanceof ConfigError && /alerter\.channels\[0\]\.secret/.test(e.message));
});

test('scheduler: a bad cron expression or time zone is named at startup', async () => {
  const { checkSchedules } = await import('../scheduler/main.ts');
  assert.throws(() => checkSchedules(parseConfig({ elasticsearch: {}, scheduler: { heartbeat: { schedule: '61 * * * *' } } })), (e: unknown) => e instanceof ConfigError && /scheduler\.heartbeat\.schedule: '61 \* \* \* \*'/.test(e.message));
  assert.throws(() => checkSchedules(parseConfig({ elasticsearch: {}, scheduler: { timezone: 'Mars/Olympus' } })), (e: unknown) => e instanceof ConfigError && /scheduler\.timezone/.test(e.message));
  assert.throws(() => checkSchedules(parseConfig({})), (e: unknown) => e instanceof ConfigError && /elasticsearch\.url/.test(e.message));
});
