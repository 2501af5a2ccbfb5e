import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../services/common/config.ts';
import type { Config, ConfigInput } from '../../schemas/config.ts';

/** Where the stack script's Kafka and Elasticsearch listen (overridable like the script). */
export const KAFKA_BROKERS = process.env.PODWATCH_KAFKA_BROKERS ?? `127.0.0.1:${process.env.PODWATCH_KAFKA_PORT ?? 19092}`;
export const ES_URL = process.env.PODWATCH_ES_URL ?? `http://127.0.0.1:${process.env.PODWATCH_ES_PORT ?? 9201}`;

/** The stack broker's SASL_SSL listener (client certificate required, SCRAM-SHA-512 user `podwatch`) and its TLS material. */
export const KAFKA_SECURE = {
  brokers: process.env.PODWATCH_KAFKA_SECURE_BROKERS ?? `127.0.0.1:${Number(process.env.PODWATCH_KAFKA_PORT ?? 19092) + 2}`,
  tlsDir: process.env.PODWATCH_KAFKA_TLS_DIR
    ?? path.join(process.env.PODWATCH_STACK_DIR ?? fileURLToPath(new URL('../../.stack', import.meta.url)), 'kafka', 'tls'),
};

/** A unique suffix so tests sharing one broker never see each other's topics or groups. */
export function uniq(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A validated config pointed at the stack, with topics unique to one test. */
export function stackConfig(overrides: ConfigInput = {}, topicPrefix = uniq('t')): Readonly<Config> {
  const o = overrides as Record<string, any>;
  return parseConfig({
    ...o,
    kafka: {
      brokers: [KAFKA_BROKERS],
      group_prefix: topicPrefix,
      ...o.kafka,
      topics: {
        raw: `${topicPrefix}.raw`, events: `${topicPrefix}.events`, alerts: `${topicPrefix}.alerts`,
        dlq: `${topicPrefix}.dlq`, state: `${topicPrefix}.state`, alerter_state: `${topicPrefix}.alerter-state`, retry: `${topicPrefix}.retry`,
        notifications: `${topicPrefix}.notifications`, partitions: 3, ...o.kafka?.topics,
      },
    },
    elasticsearch: { url: ES_URL, ...o.elasticsearch },
  }, {}, 'test configuration');
}
