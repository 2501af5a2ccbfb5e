import type { KafkaMessage } from 'kafkajs';
import type { Config } from '../../schemas/config.ts';
import type { Output } from '../common/kafka-stage.ts';
import type { Metrics } from '../common/metrics.ts';
import { normalize, type NormalizeContext } from './normalize.ts';

/** One raw record from Kafka → exactly one output: an event, or a dead letter that says why. */
export function normalizeRaw(m: KafkaMessage, where: { topic: string; partition: number }, ctx: NormalizeContext,
  topics: Config['kafka']['topics'], metrics: Metrics): Output {
  const value = m.value ?? Buffer.alloc(0);
  let text = value.toString('utf8');
  let out;
  try {
    out = normalize(text, ctx);
  } catch (err) {
    // A bug in a parser must not lose the record: it goes to the dead-letter topic with the error.
    out = { ok: false as const, dead: { '@timestamp': new Date().toISOString(), stage: 'normalizer' as const, reason: `internal error: ${(err as Error).message}`, issues: [], original: text, original_encoding: 'utf8' as const } };
  }
  if (out.ok) {
    metrics.counter('podwatch_normalizer_events_total', 'Events produced', ['dataset']).inc({ dataset: out.event.event.dataset });
    return { topic: topics.events, key: out.key, value: JSON.stringify(out.event) };
  }
  metrics.counter('podwatch_normalizer_dead_letters_total', 'Records sent to the dead-letter topic', ['component']).inc({ component: out.dead.component ?? 'none' });
  if (!Buffer.from(text, 'utf8').equals(value)) {
    text = value.toString('base64');
    out.dead.original = text;
    out.dead.original_encoding = 'base64';
  }
  return {
    topic: topics.dlq,
    key: m.key?.toString() ?? null,
    value: JSON.stringify({ ...out.dead, topic: where.topic, partition: where.partition, offset: m.offset }),
  };
}
