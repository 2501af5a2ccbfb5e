import fs from 'node:fs';
import { Kafka, logLevel, type Admin, type ITopicConfig, type KafkaConfig as KafkajsConfig, type LogEntry } from 'kafkajs';
import type { KafkaConfig } from '../../schemas/config.ts';
import { ConfigError } from './config.ts';
import { isCertificateError } from './errors.ts';
import type { Logger } from './logger.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

// kafkajs logs every refused connection and retried request; our own components log the
// state changes an operator cares about (send failing, recovered, consumer restarting), so
// kafkajs's own lines are debug detail.
function tlsOptions(cfg: KafkaConfig): KafkajsConfig['ssl'] {
  if (!cfg.tls.enabled) return undefined;
  const read = (f?: string) => (f ? fs.readFileSync(f, 'utf8') : undefined);
  const ca = read(cfg.tls.ca_file);
  return {
    rejectUnauthorized: cfg.tls.reject_unauthorized,
    ...(ca ? { ca: [ca] } : {}),
    ...(cfg.tls.cert_file ? { cert: read(cfg.tls.cert_file) } : {}),
    ...(cfg.tls.key_file ? { key: read(cfg.tls.key_file) } : {}),
  };
}

/** A kafkajs client for the configured brokers, with TLS and SASL, logging through pino. */
export function createKafka(cfg: KafkaConfig, logger: Logger, clientSuffix = ''): Kafka {
  const log = logger.child({ component: 'kafka' });
  return new Kafka({
    clientId: cfg.client_id + clientSuffix,
    brokers: [...cfg.brokers],
    ssl: tlsOptions(cfg),
    sasl: cfg.sasl ? ({ mechanism: cfg.sasl.mechanism, username: cfg.sasl.username, password: cfg.sasl.password } as KafkajsConfig['sasl']) : undefined,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 300, retries: 6, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    // the log creator below keeps kafkajs's warnings and errors, at debug
    logCreator: () => ({ level, log: entry }: { level: number; log: LogEntry['log'] }) => {
      const { message, timestamp: _t, logger: _l, ...rest } = entry;
      log.debug({ kafkajs: rest, kafkajsLevel: level }, message);
    },
  });
}

export type TopicName = keyof Omit<KafkaConfig['topics'], 'partitions' | 'replication_factor'>;

/** Topic settings; the state changelogs are compacted so one record per key survives. */
export function topicSpecs(cfg: KafkaConfig, names: readonly TopicName[]): ITopicConfig[] {
  return names.map((n) => ({
    topic: cfg.topics[n],
    numPartitions: cfg.topics.partitions,
    replicationFactor: cfg.topics.replication_factor,
    configEntries: n === 'state' || n === 'alerter_state'
      ? [{ name: 'cleanup.policy', value: 'compact' }, { name: 'min.cleanable.dirty.ratio', value: '0.1' }, { name: 'segment.ms', value: '600000' }]
      : [],
  }));
}

/** Creates the topics a service uses if they do not exist (existing ones are left alone). */
export async function ensureTopics(kafka: Kafka, cfg: KafkaConfig, names: readonly TopicName[]): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topicSpecs(cfg, names).filter((t) => !existing.has(t.topic));
    if (missing.length) await admin.createTopics({ topics: missing, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Per partition of `topic`, how many messages consumer group `group` has still to handle: the
 * end offset minus the next offset to handle, which is `from`'s (what the caller knows better),
 * else the group's committed offset, else the partition's first (stages read from the
 * beginning). `committed` counts the partitions the group has committed.
 */
export async function partitionLags(admin: Admin, group: string, topic: string, from: ReadonlyMap<number, bigint> = new Map()): Promise<{ lags: Map<number, number>; committed: number }> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const done = new Map((offsets?.partitions ?? []).filter((p) => p.offset !== '-1').map((p) => [p.partition, BigInt(p.offset)]));
  const lags = new Map((await admin.fetchTopicOffsets(topic))
    .map((o) => [o.partition, Number(BigInt(o.high) - (from.get(o.partition) ?? done.get(o.partition) ?? BigInt(o.low)))]));
  return { lags, committed: done.size };
}

/**
 * A refusal no retry can cure: the broker rejected `kafka.sasl`'s credentials, or TLS failed on
 * a certificate (`kafka.tls`). Returned as a ConfigError naming the field; anything else is an
 * outage to wait out.
 */
export function kafkaConfigProblem(err: unknown, cfg: KafkaConfig): ConfigError | undefined {
  const e = err as { name?: string; message?: string };
  if (e.name === 'KafkaJSSASLAuthenticationError') {
    return new ConfigError(`kafka.sasl: the broker refused user '${cfg.sasl?.username}' (${cfg.sasl?.mechanism}): ${e.message}`);
  }
  const message = (e.message ?? '').replace(/^Connection error: /, '').split('\n')[0]!;
  if (!isCertificateError(message)) return undefined;
  const why = /alert (bad certificate|certificate required|unknown ca)/i.test(message)
    ? 'the broker rejected our client certificate (set cert_file and key_file to one signed by a CA the broker trusts)'
    : message;
  return new ConfigError(`kafka.tls: the TLS connection to ${cfg.brokers.join(', ')} failed on a certificate: ${why}`);
}

/**
 * Connects a producer, consumer or admin, retrying with backoff while the brokers are
 * unreachable; a credential or certificate refusal ends it with a ConfigError instead.
 */
export async function connectWithRetry(client: { connect(): Promise<void> }, cfg: KafkaConfig, logger: Logger, what: string, signal?: AbortSignal): Promise<void> {
  let delay = 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.connect();
      if (attempt > 1) logger.info({ what }, 'connected to Kafka');
      return;
    } catch (err) {
      if (signal?.aborted) throw err;
      const problem = kafkaConfigProblem(err, cfg);
      if (problem) throw problem;
      if (attempt === 1) logger.warn({ what, err: (err as Error).message }, 'Kafka unreachable; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}
