import cron from 'node-cron';
import type { Alert } from '../../schemas/alert.ts';
import type { Config } from '../../schemas/config.ts';
import { createChannels } from '../common/channels/index.ts';
import { ConfigError } from '../common/config.ts';
import { Dispatcher, deadLetterFor } from '../common/dispatcher.ts';
import { createElasticsearch, type Client } from '../common/elasticsearch.ts';
import { startOpsServer } from '../common/http.ts';
import { sendInOrder, type Output } from '../common/kafka-stage.ts';
import { connectWithRetry, createKafka, ensureTopics } from '../common/kafka.ts';
import { createLogger } from '../common/logger.ts';
import { createMetrics } from '../common/metrics.ts';
import { onShutdown } from '../common/shutdown.ts';
import { Heartbeat, consumerLag, sourceStatus } from './heartbeat.ts';
import { JobRunner, type JobFn, type JobResult } from './jobs.ts';
import { checkEndpoints } from './posture.ts';
import { accessReview, reviewFindings, reviewNotification } from './review.ts';

/** Fails at startup, naming the field, when a schedule or time zone is not one node-cron accepts. */
export function checkSchedules(cfg: Readonly<Config>): void {
  const s = cfg.scheduler;
  for (const job of ['access_review', 'heartbeat', 'posture'] as const) {
    if (!cron.validate(s[job].schedule)) throw new ConfigError(`scheduler.${job}.schedule: '${s[job].schedule}' is not a cron expression`);
  }
  try { new Intl.DateTimeFormat('en', { timeZone: s.timezone }); } catch {
    throw new ConfigError(`scheduler.timezone: '${s.timezone}' is not an IANA time zone`);
  }
  if (!cfg.elasticsearch && (s.access_review.enabled || s.heartbeat.enabled)) {
    throw new ConfigError('scheduler: the access review and the heartbeat read the indexed events; set elasticsearch.url (or PODWATCH_ES_URL) or disable them');
  }
}

const month = (iso: string) => iso.slice(0, 7).replace('-', '.');

/** When the job's last real run (not a skipped or missed one) started, from the stored runs. */
async function lastRunStart(es: Client, ns: string, job: string): Promise<Date | undefined> {
  const { body } = await es.search({
    index: `podwatch-jobs-${ns}-*`, allow_no_indices: true, ignore_unavailable: true,
    body: { size: 1, sort: [{ started: 'desc' }], query: { bool: { filter: [{ term: { 'job.keyword': job } }, { terms: { 'outcome.keyword': ['ok', 'findings', 'failed'] } }] } } },
  } as never);
  const hit = (body as { hits: { hits: Array<{ _source: JobResult }> } }).hits.hits[0];
  return hit ? new Date(hit._source.started) : undefined;
}

/**
 * The scheduler: access reviews, source heartbeats and API posture checks on node-cron. Findings
 * become alerts on `podwatch.alerts` (so the alerter groups, routes and delivers them and the
 * indexer stores them); reviews go to their channels directly; every run is a document.
 */
export async function main(cfg: Readonly<Config>): Promise<void> {
  checkSchedules(cfg);
  const logger = createLogger('scheduler', cfg.log.level);
  const metrics = createMetrics('scheduler');
  const s = cfg.scheduler;
  const t = cfg.kafka.topics;
  const es: Client | undefined = cfg.elasticsearch ? createElasticsearch(cfg.elasticsearch) : undefined;
  const ns = cfg.elasticsearch?.namespace ?? 'default';
  const kafka = createKafka(cfg.kafka, logger, '-scheduler');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await connectWithRetry(producer, cfg.kafka, logger, 'producer');
  await ensureTopics(kafka, cfg.kafka, ['alerts', 'retry', 'dlq']);
  const admin = kafka.admin();
  await connectWithRetry(admin, cfg.kafka, logger, 'admin');
  const channels = createChannels(cfg.alerter);
  const dispatcher = new Dispatcher(channels, cfg.alerter.retry, logger.child({ component: 'dispatcher' }), metrics);

  const record = async (r: JobResult) => {
    logger.info({ job: r.job, outcome: r.outcome, findings: r.findings.length, ms: r.duration_ms }, r.summary);
    if (es) await es.index({ index: `podwatch-jobs-${ns}-${month(r.started)}`, id: r.run_id, body: r, op_type: 'create' });
  };
  const raise = (alerts: Alert[]) => sendInOrder(producer, alerts.map((a): Output => ({ topic: t.alerts, key: a.alert.entity.value, value: JSON.stringify(a) })));
  const runner = new JobRunner(s.timezone, logger, metrics, record);

  const review = async () => {
    const r = await accessReview(es!, ns, s.access_review, Date.now());
    await es!.index({ index: `podwatch-reviews-${ns}`, id: r.id, body: r });
    const n = reviewNotification(r, cfg.host.name!);
    // Failed deliveries wait in the alerter's retry topic like any notification.
    const outcomes = await dispatcher.deliver(n, s.access_review.channels ?? cfg.alerter.default_channels);
    await sendInOrder(producer, outcomes.flatMap((o) => (o.status === 'sent' ? [] : [{ topic: o.status === 'retry' ? t.retry : t.dlq, key: o.channel, value: JSON.stringify(o.status === 'retry' ? o.task : deadLetterFor(o.task)) }])));
    return { summary: n.summary, findings: reviewFindings(r) };
  };
  const heartbeat = new Heartbeat(s.heartbeat);
  const lagGroups = [
    { group: `${cfg.kafka.group_prefix}-normalizer`, topic: t.raw }, { group: `${cfg.kafka.group_prefix}-detector`, topic: t.events },
    { group: `${cfg.kafka.group_prefix}-indexer-events`, topic: t.events }, { group: `${cfg.kafka.group_prefix}-alerter`, topic: t.alerts },
  ];
  const beat = async (runId: string) => {
    const now = Date.now();
    const [sources, lags] = await Promise.all([sourceStatus(es!, ns, s.heartbeat, now), consumerLag(admin, lagGroups)]);
    const { alerts, lag } = heartbeat.evaluate(sources, lags, now, runId);
    await raise(alerts);
    const silent = sources.filter((x) => x.silent).map((x) => x.name);
    return { summary: `${sources.length} sources, ${silent.length} silent${silent.length ? ` (${silent.join(', ')})` : ''}; ${lag.filter((l) => l.stalled).length} stalled stages`, findings: [...sources.filter((x) => x.silent), ...lag.filter((l) => l.stalled)] };
  };
  const posture = async (runId: string) => {
    const { summary, findings, alerts } = await checkEndpoints(s.posture.endpoints, s.posture.timeout_ms, runId);
    await raise(alerts);
    return { summary, findings };
  };

  const jobs: Array<[string, string, JobFn]> = [];
  if (s.access_review.enabled) jobs.push(['access_review', s.access_review.schedule, review]);
  if (s.heartbeat.enabled) jobs.push(['heartbeat', s.heartbeat.schedule, beat]);
  if (s.posture.enabled && s.posture.endpoints.length) jobs.push(['posture', s.posture.schedule, posture]);
  for (const [job, schedule, fn] of jobs) runner.add(job, schedule, fn);
  if (es) await runner.catchUp((job) => lastRunStart(es, ns, job));
  const ops = await startOpsServer(metrics, () => ({ ok: true, detail: { jobs: [...runner.tasks.keys()] } }), { host: s.http.host, port: s.http.port ?? 9469 });
  onShutdown(logger, async () => {
    await runner.stop();
    await admin.disconnect();
    await producer.disconnect();
    for (const c of channels.values()) c.close?.();
    await es?.close();
    await ops.close();
  });
  // Announced once SIGTERM is handled: a signal before that would kill the process outright.
  logger.info({ jobs: [...runner.tasks.entries()].map(([name, task]) => ({ name, schedule: task.getPattern(), next: task.getNextRun()?.toISOString() })), timezone: s.timezone, metricsPort: ops.port }, 'scheduler started');
}
