import type { KafkaMessage } from 'kafkajs';
import type { Config } from '../../schemas/config.ts';
import type { Client } from '../common/elasticsearch.ts';
import { deadLetterOutput, type Output } from '../common/kafka-stage.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';
import { indexAll, type Doc } from './bulk.ts';
import type { Layout } from './templates.ts';

interface Parsed { '@timestamp'?: unknown; event?: { id?: unknown }; alert?: { id?: unknown } }

/**
 * One consumed batch → Elasticsearch. Returns the dead letters (unparseable records and
 * documents Elasticsearch rejected for good) for the caller to produce before it commits.
 */
export async function indexBatch(
  messages: KafkaMessage[], where: { topic: string; partition: number }, kind: 'events' | 'alerts',
  deps: { client: Client; layout: Layout; topics: Config['kafka']['topics']; logger: Logger; metrics: Metrics; keepAlive?: () => Promise<void> },
): Promise<Output[]> {
  const dead: Output[] = [];
  const docs: Doc[] = [];
  const letter = (m: KafkaMessage, reason: string, component = 'indexer') => deadLetterOutput(m, where, deps.topics.dlq, { stage: 'indexer', reason, component });
  const byDoc = new Map<Doc, KafkaMessage>();
  for (const m of messages) {
    const text = m.value?.toString() ?? '';
    let p: Parsed;
    try { p = JSON.parse(text) as Parsed; } catch { dead.push(letter(m, 'not JSON')); continue; }
    const id = kind === 'alerts' ? p.alert?.id : p.event?.id;
    const ts = p['@timestamp'];
    if (typeof id !== 'string' || typeof ts !== 'string' || Number.isNaN(Date.parse(ts))) { dead.push(letter(m, `missing ${kind === 'alerts' ? 'alert.id' : 'event.id'} or @timestamp`)); continue; }
    const doc = { index: deps.layout.target(kind, new Date(ts).toISOString()), id, source: text };
    docs.push(doc);
    byDoc.set(doc, m);
  }
  for (const r of await indexAll(deps.client, docs, deps.logger, deps.metrics, deps.keepAlive)) {
    dead.push(letter(byDoc.get(r.doc)!, `Elasticsearch rejected the document: ${r.reason}`, 'elasticsearch'));
  }
  return dead;
}
