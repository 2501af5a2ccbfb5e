import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { DeadLetter } from '../../schemas/dead-letter.ts';
import type { EcsEvent } from '../../schemas/event.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from '../helpers/log.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { stackConfig } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

const fixtures = fileURLToPath(new URL('../fixtures/proxies/', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/podwatch.js', import.meta.url));
let proc: Proc | undefined;
after(async () => { await proc?.stop('SIGKILL'); });

test('N raw records in, N outputs across events and dead letters; a replay yields the same event ids', async () => {
  const cfg = stackConfig();
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['raw', 'events', 'dlq']);
  const lines = fs.readFileSync(`${fixtures}nginx-access.json.log`, 'utf8').split('\n').filter(Boolean);
  const raws = [
    ...lines.map((line, i) => ({ id: `nginx-${i}`, source: { type: 'file', name: 'nginx', format: 'auto' }, host: 'podhost', position: { offset: i }, line, collected_at: new Date().toISOString() })),
    { id: 'bad-1', source: { type: 'file', name: 'nginx', format: 'auto' }, host: 'podhost', position: { offset: 99 }, line: lines[0]!.slice(0, 200), truncated: true, length: lines[0]!.length, collected_at: new Date().toISOString() },
  ];
  const values = [...raws.map((r) => JSON.stringify(r)), 'not even json', Buffer.from([0xff, 0xfe, 0x00])];
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: cfg.kafka.topics.raw, acks: -1, messages: values.map((value) => ({ key: 'k', value })) });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-normalizer-'));
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({ kafka: { brokers: cfg.kafka.brokers, topics: { ...cfg.kafka.topics } }, normalizer: { http: { port: 0 } } }));
  const events = await followTopic(kafka, cfg.kafka.topics.events);
  const dlq = await followTopic(kafka, cfg.kafka.topics.dlq);
  proc = spawnPodwatch(['run', 'normalizer', '--config', file]);
  await waitUntil(() => events.messages.length + dlq.messages.length >= values.length, 60_000, 'every record normalized');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(events.messages.length, lines.length);
  assert.equal(dlq.messages.length, 3);
  const dead = dlq.json<DeadLetter & { offset: string }>();
  assert.deepEqual(dead.map((d) => d.reason.split(':')[0]), ['not JSON', 'raw record is not JSON', 'raw record is not JSON']);
  assert.match(dead[0]!.reason, /the line was truncated at 200 of \d+ bytes/);
  assert.equal(dead[0]!.component, 'nginx-json');
  assert.equal(dead[2]!.original_encoding, 'base64');
  assert.deepEqual(Buffer.from(dead[2]!.original, 'base64'), Buffer.from([0xff, 0xfe, 0x00]));
  // Events are keyed by identity so one identity's events share a partition.
  const alice = events.messages.filter((m) => JSON.parse(m.value).user?.name === 'alice');
  assert.ok(alice.length > 3 && alice.every((m) => m.key === 'alice' && m.partition === alice[0]!.partition));

  // Replay the same raw records: the same event ids come out again.
  const firstIds = new Set(events.json<EcsEvent>().map((e) => e.event.id));
  await producer.send({ topic: cfg.kafka.topics.raw, acks: -1, messages: values.slice(0, lines.length).map((value) => ({ key: 'k', value })) });
  await waitUntil(() => events.messages.length >= lines.length * 2, 60_000, 'replayed events');
  const replayIds = events.json<EcsEvent>().slice(lines.length).map((e) => e.event.id);
  assert.deepEqual(new Set(replayIds), firstIds);
  assert.equal(await proc.stop('SIGTERM'), 0);
  proc = undefined;
  await Promise.all([events.stop(), dlq.stop(), producer.disconnect()]);
});

test('podwatch normalize: events on stdout, dead letters with reasons to --dlq, exit 0', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-cli-'));
  const input = path.join(dir, 'mixed.log');
  fs.writeFileSync(input, `${fs.readFileSync(`${fixtures}haproxy.log`, 'utf8')}garbage line\n`);
  const out = execFileSync(process.execPath, [bin, 'normalize', '--dlq', path.join(dir, 'dlq.ndjson'), input], { encoding: 'utf8' });
  const events = out.trim().split('\n').map((l) => JSON.parse(l) as EcsEvent);
  assert.equal(events.length, fs.readFileSync(`${fixtures}haproxy.log`, 'utf8').trim().split('\n').length);
  assert.ok(events.every((e) => e.event.dataset === 'haproxy.log'));
  const dead = fs.readFileSync(path.join(dir, 'dlq.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DeadLetter);
  assert.deepEqual(dead.map((d) => d.reason), ['no parser recognised the record']);
  // The same input twice gives the same event ids (deterministic from source and position).
  const again = execFileSync(process.execPath, [bin, 'normalize', '--dlq', '/dev/null', input], { encoding: 'utf8' });
  assert.deepEqual(again.trim().split('\n').map((l) => JSON.parse(l).event.id), events.map((e) => e.event.id));
  // An unreadable input is a clear error, not a stack trace.
  let err = '';
  try { execFileSync(process.execPath, [bin, 'normalize', '/nonexistent.log'], { encoding: 'utf8', stdio: 'pipe' }); } catch (e) { err = (e as { stderr: string }).stderr; }
  assert.equal(err.trim(), 'podwatch: cannot read /nonexistent.log (ENOENT)');
});
