import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kafka, Producer } from 'kafkajs';
import { stringify } from 'yaml';
import type { Alert } from '../../schemas/alert.ts';
import type { Config } from '../../schemas/config.ts';
import { createKafka, ensureTopics } from '../../services/common/kafka.ts';
import { memoryLogger } from './log.ts';
import { spawnPodwatch, type Proc } from './process.ts';
import { stackConfig } from './stack.ts';

export interface AlerterHarness {
  cfg: Readonly<Config>;
  kafka: Kafka;
  producer: Producer;
  file: string;
  start(): Promise<Proc>;
  send(alerts: Alert[]): Promise<void>;
}

/** Topics on the real Kafka, a config file for `podwatch run alerter` with the given alerter section. */
export async function alerterHarness(alerter: Record<string, unknown>): Promise<AlerterHarness> {
  const cfg = stackConfig();
  const kafka = createKafka(cfg.kafka, memoryLogger('error').logger);
  await ensureTopics(kafka, cfg.kafka, ['alerts', 'alerter_state', 'retry', 'dlq']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-alerter-'));
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({ kafka: { brokers: cfg.kafka.brokers, group_prefix: cfg.kafka.group_prefix, topics: { ...cfg.kafka.topics } }, alerter: { http: { port: 0 }, ...alerter } }));
  const producer = kafka.producer();
  await producer.connect();
  return {
    cfg, kafka, producer, file,
    async start() {
      const p = spawnPodwatch(['run', 'alerter', '--config', file]);
      await p.waitForOutput(/alerter started/);
      return p;
    },
    async send(alerts) {
      await producer.send({ topic: cfg.kafka.topics.alerts, acks: -1, messages: alerts.map((a) => ({ key: a.alert.entity.value, value: JSON.stringify(a) })) });
    },
  };
}
