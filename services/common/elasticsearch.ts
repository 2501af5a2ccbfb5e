import fs from 'node:fs';
import { createRequire } from 'node:module';
// Client 7.x declares its types outside its package "exports", which NodeNext resolution
// respects; load it through require and take the types from the declaration file.
import type * as EsModule from '../../node_modules/@elastic/elasticsearch/index.d.ts';
import type { Client, ClientOptions } from '../../node_modules/@elastic/elasticsearch/index.d.ts';

export type { Client };
const elasticsearch = createRequire(import.meta.url)('@elastic/elasticsearch') as typeof EsModule;
import type { ElasticsearchConfig } from '../../schemas/config.ts';
import { ConfigError } from './config.ts';
import { errorMessage, isCertificateError } from './errors.ts';
import type { Logger } from './logger.ts';

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

/**
 * A refusal no retry can cure: Elasticsearch rejected the credentials (401) or their privileges
 * (403), or TLS failed on a certificate. Returned as a ConfigError naming the field; anything
 * else is an outage to wait out.
 */
export function elasticsearchConfigProblem(err: unknown, cfg: ElasticsearchConfig): ConfigError | undefined {
  const e = err as { message?: string; meta?: { statusCode?: number; body?: { error?: { reason?: string } } } };
  const creds = cfg.api_key ? 'elasticsearch.api_key' : cfg.username ? 'elasticsearch.username/password' : 'elasticsearch';
  const reason = e.meta?.body?.error?.reason ? `: ${e.meta.body.error.reason}` : '';
  if (e.meta?.statusCode === 401) {
    return new ConfigError(cfg.api_key || cfg.username
      ? `${creds}: ${cfg.url} refused the credentials (401)${reason}`
      : `elasticsearch: ${cfg.url} requires authentication (401); set username and password (PODWATCH_ES_PASSWORD_FILE) or api_key`);
  }
  if (e.meta?.statusCode === 403) return new ConfigError(`${creds}: ${cfg.url} denied the access Podwatch needs (403)${reason}`);
  if (isCertificateError(e.message ?? '')) {
    return new ConfigError(`elasticsearch.ca_file: the TLS connection to ${cfg.url} failed on a certificate: ${e.message}`);
  }
  return undefined;
}

/**
 * Runs `attempt` until it succeeds, retrying with backoff (1 s doubling to 30 s) while
 * Elasticsearch is unreachable; a credential or certificate refusal ends it with a ConfigError.
 */
export async function whenElasticsearchReady<T>(cfg: ElasticsearchConfig, logger: Logger, what: string, attempt: () => Promise<T>): Promise<T> {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      return await attempt();
    } catch (err) {
      const problem = elasticsearchConfigProblem(err, cfg);
      if (problem) throw problem;
      logger.warn({ err: errorMessage(err), retryInMs: delay }, `${what}: Elasticsearch not ready; retrying`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
