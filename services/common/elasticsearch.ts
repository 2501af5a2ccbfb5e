import fs from 'node:fs';
import { createRequire } from 'node:module';
// Client 7.x declares its types outside its package "exports", which NodeNext resolution
// respects; load it through require and take the types from the declaration file.
import type * as EsModule from '../../node_modules/@elastic/elasticsearch/index.d.ts';
import type { Client, ClientOptions } from '../../node_modules/@elastic/elasticsearch/index.d.ts';

export type { Client };
const elasticsearch = createRequire(import.meta.url)('@elastic/elasticsearch') as typeof EsModule;
import type { ElasticsearchConfig } from '../../schemas/config.ts';

/** An Elasticsearch client for the configured cluster: TLS CA, API key or basic auth. */
export function createElasticsearch(cfg: ElasticsearchConfig): Client {
  const opts: ClientOptions = {
    node: cfg.url,
    requestTimeout: cfg.request_timeout_ms,
    maxRetries: 2,
  };
  if (cfg.api_key) opts.auth = { apiKey: cfg.api_key };
  else if (cfg.username) opts.auth = { username: cfg.username, password: cfg.password ?? '' };
  if (cfg.url.startsWith('https:')) {
    opts.ssl = {
      rejectUnauthorized: cfg.reject_unauthorized,
      ...(cfg.ca_file ? { ca: fs.readFileSync(cfg.ca_file, 'utf8') } : {}),
    };
  }
  return new elasticsearch.Client(opts);
}

/**
 * Indexes a document under a deterministic id with `create`, so a retry never makes a second
 * copy: a 409 (already there) is success.
 */
export async function createOnce(client: Client, index: string, id: string, document: unknown, refresh: boolean | 'wait_for' = false): Promise<'created' | 'exists'> {
  try {
    await client.create({ index, id, body: document as Record<string, unknown>, refresh });
    return 'created';
  } catch (err) {
    if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 409) return 'exists';
    throw err;
  }
}

/** The indices (or data streams) holding one namespace's documents of the given kinds, for searching. */
export function searchTargets(namespace: string, kinds: ReadonlyArray<'events' | 'alerts' | 'jobs' | 'reviews'>): string {
  return kinds.flatMap((k) => [`podwatch-${k}-${namespace}-*`, `logs-podwatch.${k}-${namespace}`]).join(',');
}
