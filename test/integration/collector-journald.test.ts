import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { stringify } from 'yaml';
import type { RawRecord } from '../../schemas/raw.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { ensureJournald, journalWrite, writeJournalFile } from '../helpers/journald.ts';
import { memoryLogger } from '../helpers/log.ts';
import { spawnPodwatch, type Proc } from '../helpers/process.ts';
import { stackConfig, uniq } from '../helpers/stack.ts';
import { followTopic } from '../helpers/topic.ts';

const { logger } = memoryLogger('error');
let kafka: Kafka;
let stopJournald: () => void = () => undefined;
let proc: Proc | undefined;

before(async () => {
  kafka = createKafka(stackConfig().kafka, logger);
  stopJournald = await ensureJournald();
});
after(async () => { await proc?.stop('SIGKILL'); stopJournald(); });

function configFile(source: Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-journal-'));
  const cfg = stackConfig();
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({
    kafka: { brokers: cfg.kafka.brokers, topics: { ...cfg.kafka.topics } },
    collector: {
      checkpoint_dir: path.join(dir, 'checkpoints'), start_at: 'beginning', journal_restart_backoff_ms: 200,
      http: { port: 0 }, sources: [{ type: 'journald', name: 'journal', ...source }],
    },
  }));
  return { cfg, file, dir };
}

test('real journald entries arrive once; a restart resumes after the saved cursor; a dead journalctl is restarted', async () => {
  const tag = uniq('podman-test');
  const { cfg, file } = configFile({ matches: [`SYSLOG_IDENTIFIER=${tag}`] });
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  for (let i = 1; i <= 3; i++) journalWrite(tag, `entry ${i}`);

  proc = spawnPodwatch(['run', 'collector', '--config', file]);
  await topic.waitForCount(3, 30_000);
  assert.equal(await proc.stop('SIGTERM'), 0);

  for (let i = 4; i <= 5; i++) journalWrite(tag, `entry ${i}`);
  proc = spawnPodwatch(['run', 'collector', '--config', file]);
  await topic.waitForCount(5, 30_000);

  // journalctl dies: the collector restarts it from the last cursor and says so.
  const journalctl = execFileSync('pgrep', ['-P', String(proc.child.pid), 'journalctl']).toString().trim();
  process.kill(Number(journalctl), 'SIGKILL');
  await proc.waitForOutput(/journalctl exited; restarting/, 10_000);
  journalWrite(tag, 'entry 6');
  await topic.waitForCount(6, 30_000);
  await new Promise((r) => setTimeout(r, 1000));

  const records = topic.json<RawRecord>();
  assert.deepEqual(records.map((r) => r.journal?.MESSAGE), ['entry 1', 'entry 2', 'entry 3', 'entry 4', 'entry 5', 'entry 6']);
  assert.ok(records.every((r) => r.source.type === 'journald' && r.position.cursor && r.unit === tag));
  const metrics = await fetch(`http://127.0.0.1:${/"metricsPort":(\d+)/.exec(proc.output())![1]}/metrics`).then((r) => r.text());
  assert.match(metrics, /podwatch_collector_journalctl_restarts_total\{source="journal"[^}]*\} 1/);
  await proc.stop();
  proc = undefined;
  await topic.stop();
});

test('journal files copied from a host are read with --directory, filtered by the default Podman matches', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-journal-files-'));
  writeJournalFile(path.join(dir, 'host.journal'), [
    { SYSLOG_IDENTIFIER: 'podman', PODMAN_EVENT: 'exec', PODMAN_TYPE: 'container', PODMAN_NAME: 'web', MESSAGE: 'exec 1' },
    { SYSLOG_IDENTIFIER: 'sshd', MESSAGE: 'not podman' },
    { SYSLOG_IDENTIFIER: 'podman', PODMAN_EVENT: 'start', PODMAN_TYPE: 'container', PODMAN_NAME: 'db', MESSAGE: 'start 1' },
  ]);
  const { cfg, file } = configFile({ directory: dir });
  await ensureTopics(kafka, cfg.kafka, ['raw']);
  const topic = await followTopic(kafka, cfg.kafka.topics.raw);
  proc = spawnPodwatch(['run', 'collector', '--config', file]);
  await topic.waitForCount(2, 30_000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(topic.json<RawRecord>().map((r) => r.journal?.PODMAN_NAME), ['web', 'db']);
  await proc.stop();
  proc = undefined;
  await topic.stop();
});
