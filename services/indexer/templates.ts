import type { Client } from '../common/elasticsearch.ts';
import type { Logger } from '../common/logger.ts';

const kw = { type: 'keyword', ignore_above: 1024 };
const date = { type: 'date' };
const ip = { type: 'ip' };
const long = { type: 'long' };
const obj = (properties: Record<string, unknown>) => ({ properties });

/** Explicit ECS mappings for what Podwatch writes; other strings become keywords. */
export const EVENT_MAPPINGS = {
  dynamic_templates: [{ strings_as_keyword: { match_mapping_type: 'string', mapping: kw } }],
  properties: {
    '@timestamp': date,
    message: { type: 'text' },
    event: obj({
      id: kw, kind: kw, category: kw, type: kw, action: kw, outcome: kw, reason: { type: 'text', fields: { keyword: kw } },
      dataset: kw, module: kw, ingested: date, original: { type: 'keyword', index: false, doc_values: false },
    }),
    source: obj({ ip, port: long, network: kw, geo: obj({ country_iso_code: kw, city_name: kw }), as: obj({ number: long, organization: obj({ name: kw }) }) }),
    user: obj({ name: kw }),
    tls: obj({
      established: { type: 'boolean' }, version: kw, version_protocol: kw, cipher: kw,
      client: obj({
        hash: obj({ sha1: kw, sha256: kw }), not_after: date, verify: kw,
        x509: obj({ subject: obj({ distinguished_name: kw, common_name: kw }), issuer: obj({ distinguished_name: kw }), serial_number: kw }),
      }),
    }),
    http: obj({ version: kw, request: obj({ method: kw, id: kw, bytes: long }), response: obj({ status_code: long, bytes: long }) }),
    url: obj({ path: kw, query: kw }),
    user_agent: obj({ original: kw }),
    container: obj({ id: kw, name: kw, image: obj({ name: kw }) }),
    host: obj({ name: kw }),
    observer: obj({ type: kw, product: kw, hostname: kw }),
    log: obj({ level: kw, logger: kw, file: obj({ path: kw }) }),
    error: obj({ message: { type: 'text' }, code: kw }),
    related: obj({ ip, user: kw }),
    labels: { type: 'object', dynamic: true },
    podman: obj({
      api: obj({ operation: kw, flavour: kw, version: kw, risk: kw, showsecret: { type: 'boolean' } }),
      exec: obj({ session_id: kw, command: kw, user: kw, privileged: { type: 'boolean' }, tty: { type: 'boolean' } }),
      event: obj({ status: kw, type: kw, exit_code: long, attributes: { type: 'object', dynamic: true } }),
      container: obj({ privileged: { type: 'boolean' }, host_mounts: kw }),
    }),
  },
};

export const ALERT_MAPPINGS = {
  dynamic_templates: EVENT_MAPPINGS.dynamic_templates,
  properties: {
    '@timestamp': date,
    event: obj({ kind: kw, id: kw }),
    alert: obj({
      id: kw, severity: kw, summary: { type: 'text', fields: { keyword: kw } }, entity: obj({ type: kw, value: kw }),
      first_seen: date, last_seen: date, count: long, event_ids: kw, labels: { type: 'object', dynamic: true },
      // The evidence events are kept for display, not searched (they are indexed as events).
      events: { type: 'object', enabled: false },
    }),
    rule: obj({ id: kw, name: kw, description: { type: 'text' } }),
    threat: obj({ framework: kw, tactic: obj({ id: kw, name: kw }), technique: obj({ id: kw, name: kw }) }),
    user: obj({ name: kw }),
    source: obj({ ip }),
    container: obj({ id: kw, name: kw }),
  },
};

export interface Layout {
  /** Where a document of this kind and time goes. */
  target(kind: 'events' | 'alerts', timestamp: string): string;
  /** A pattern that searches every target of the kinds. */
  pattern(kinds: Array<'events' | 'alerts'>): string;
  dataStreams: boolean;
  retention: 'ilm' | 'none';
}

/** Whether the cluster serves a listing API (200); without X-Pack, 7.x answers 400 or 405. */
async function supported(client: Client, path: string): Promise<boolean> {
  try {
    await client.transport.request({ method: 'GET', path });
    return true;
  } catch {
    return false;
  }
}

/** Templates up to version 1 were one per kind for every namespace; their patterns overlap ours. */
async function removeSharedTemplates(client: Client, logger: Logger): Promise<void> {
  for (const kind of ['events', 'alerts']) {
    const { body } = await client.indices.getIndexTemplate({ name: `podwatch-${kind}` }, { ignore: [404] });
    const old = (body as { index_templates?: Array<{ index_template: { _meta?: { managed_by?: string } } }> }).index_templates?.[0];
    if (old?.index_template._meta?.managed_by !== 'podwatch') continue;
    await client.indices.deleteIndexTemplate({ name: `podwatch-${kind}` }, { ignore: [404] });
    logger.info({ template: `podwatch-${kind}` }, 'removed the index template shared by all namespaces; each namespace now has its own');
  }
}

/**
 * Installs (or upgrades) this namespace's index templates and picks the layout: data streams
 * `logs-podwatch.<kind>-<namespace>` where the cluster has them, else daily indices
 * `podwatch-<kind>-<namespace>-YYYY.MM.DD`; an ILM retention policy where ILM exists. Templates
 * and policy are the namespace's own (`podwatch-<kind>-<namespace>`, `podwatch-<namespace>`), so
 * deployments that share a cluster keep their own retention and settings.
 */
export async function installTemplates(client: Client, namespace: string, settings: { retention_days: number; refresh_interval: string }, logger: Logger): Promise<Layout> {
  const retentionDays = settings.retention_days;
  const dataStreams = await supported(client, '/_data_stream');
  const ilm = await supported(client, '/_ilm/policy');
  const policy = `podwatch-${namespace}`;
  if (ilm) {
    await client.transport.request({ method: 'PUT', path: `/_ilm/policy/${policy}`, body: {
      policy: { phases: { hot: { actions: { rollover: { max_age: '1d', max_size: '20gb' } } }, delete: { min_age: `${retentionDays}d`, actions: { delete: {} } } } },
    } });
  } else {
    logger.warn({ retentionDays }, 'this Elasticsearch has no ILM (no X-Pack): old daily indices are not deleted automatically; delete podwatch-*-YYYY.MM.DD indices older than the retention yourself');
  }
  if (!dataStreams) logger.info('this Elasticsearch has no data streams: using daily indices podwatch-<kind>-<namespace>-YYYY.MM.DD');
  await removeSharedTemplates(client, logger);
  for (const [kind, mappings] of [['events', EVENT_MAPPINGS], ['alerts', ALERT_MAPPINGS]] as const) {
    await client.indices.putIndexTemplate({
      name: `podwatch-${kind}-${namespace}`,
      body: {
        // A namespace has no '-', so one namespace's pattern never matches another's indices.
        index_patterns: [dataStreams ? `logs-podwatch.${kind}-${namespace}` : `podwatch-${kind}-${namespace}-*`],
        priority: 200,
        ...(dataStreams ? { data_stream: {} } : {}),
        template: {
          settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: settings.refresh_interval, ...(ilm ? { 'index.lifecycle.name': policy } : {}) },
          mappings,
        },
        _meta: { managed_by: 'podwatch', version: 2, namespace },
      },
    });
  }
  const day = (ts: string) => ts.slice(0, 10).replace(/-/g, '.');
  return {
    dataStreams,
    retention: ilm ? 'ilm' : 'none',
    target: (kind, ts) => (dataStreams ? `logs-podwatch.${kind}-${namespace}` : `podwatch-${kind}-${namespace}-${day(ts)}`),
    pattern: (kinds) => kinds.map((k) => (dataStreams ? `logs-podwatch.${k}-${namespace}` : `podwatch-${k}-${namespace}-*`)).join(','),
  };
}

/** Removes a namespace's templates and retention policy (its indices are left alone). */
export async function uninstallTemplates(client: Client, namespace: string): Promise<void> {
  for (const kind of ['events', 'alerts']) await client.indices.deleteIndexTemplate({ name: `podwatch-${kind}-${namespace}` }, { ignore: [404] });
  await client.transport.request({ method: 'DELETE', path: `/_ilm/policy/podwatch-${namespace}` }, { ignore: [400, 404, 405] }).catch(() => undefined);
}
