import type { Client } from '../common/elasticsearch.ts';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';

export interface Doc { index: string; id: string; source: string }
export interface Rejected { doc: Doc; reason: string }

/**
 * Indexes documents with `create` and their deterministic ids, until each is indexed (201),
 * already there (409: a redelivery) or rejected for good (mapping errors and other 4xx).
 * 429 and 5xx items, and a cluster that does not answer, are retried with backoff for as
 * long as it takes: the caller does not commit meanwhile, so Kafka is the buffer.
 */
export async function indexAll(client: Client, docs: Doc[], logger: Logger, metrics: Metrics, keepAlive?: () => Promise<void>): Promise<Rejected[]> {
  const indexed = metrics.counter('podwatch_indexer_documents_total', 'Documents by outcome', ['outcome']);
  const latency = metrics.histogram('podwatch_indexer_bulk_seconds', 'Bulk request latency', [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]);
  const rejected: Rejected[] = [];
  let pending = docs;
  let backoff = 250;
  let warned = false;
  while (pending.length) {
    const body: string[] = [];
    for (const d of pending) body.push(JSON.stringify({ create: { _index: d.index, _id: d.id } }), d.source);
    let items: Array<{ create: { status: number; error?: { type: string; reason: string; caused_by?: { reason?: string } } } }>;
    const end = latency.startTimer();
    try {
      const resp = await client.bulk({ body: `${body.join('\n')}\n` });
      items = resp.body.items;
      end();
    } catch (err) {
      if (!warned) { logger.warn({ err: errorMessage(err), documents: pending.length }, 'Elasticsearch unavailable; retrying and holding the Kafka offset'); warned = true; }
      indexed.inc({ outcome: 'retried' }, pending.length);
      await new Promise((r) => setTimeout(r, backoff * (0.5 + Math.random())));
      backoff = Math.min(backoff * 2, 10_000);
      await keepAlive?.();
      continue;
    }
    if (warned) { logger.info('Elasticsearch indexing recovered'); warned = false; }
    const retry: Doc[] = [];
    items.forEach((item, i) => {
      const r = item.create;
      const doc = pending[i]!;
      if (r.status < 300) indexed.inc({ outcome: 'created' });
      else if (r.status === 409) indexed.inc({ outcome: 'duplicate' });
      else if (r.status === 429 || r.status >= 500) retry.push(doc);
      else {
        indexed.inc({ outcome: 'dead_lettered' });
        rejected.push({ doc, reason: `${r.error?.type ?? r.status}: ${r.error?.reason ?? 'rejected'}${r.error?.caused_by?.reason ? ` (${r.error.caused_by.reason})` : ''}` });
      }
    });
    if (retry.length) {
      indexed.inc({ outcome: 'retried' }, retry.length);
      await new Promise((r) => setTimeout(r, backoff * (0.5 + Math.random())));
      backoff = Math.min(backoff * 2, 10_000);
      await keepAlive?.();
    }
    pending = retry;
  }
  return rejected;
}
