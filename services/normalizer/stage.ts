import type { KafkaMessage } from 'kafkajs';
import type { Config } from '../../schemas/config.ts';
import { deadLetterOutput, type Output } from '../common/kafka-stage.ts';
import type { Metrics } from '../common/metrics.ts';
import { normalize, type NormalizeContext, type Outcome } from './normalize.ts';

/** One raw record from Kafka → exactly one output: an event, or a dead letter that says why. */
export function normalizeRaw(m: KafkaMessage, where: { topic: string; partition: number }, ctx: NormalizeContext,
  topics: Config['kafka']['topics'], metrics: Metrics): Output {
  let out: Outcome;
  try {
    out = normalize(m.value?.toString('utf8') ?? '', ctx);
  } catch (err) {
    // A bug in a parser must not lose the record: it goes to the dead-letter topic with the error.
    return deadLetterOutput(m, where, topics.dlq, { stage: 'normalizer', reason: `internal error: ${(err as Error).message}` });
  }
  if (out.ok) {
    metrics.counter('podwatch_normalizer_events_total', 'Events produced', ['dataset']).inc({ dataset: out.event.event.dataset });
    return { topic: topics.events, key: out.key, value: JSON.stringify(out.event) };
  }
  metrics.counter('podwatch_normalizer_dead_letters_total', 'Records sent to the dead-letter topic', ['component']).inc({ component: out.dead.component ?? 'none' });
  return deadLetterOutput(m, where, topics.dlq, out.dead);
}
