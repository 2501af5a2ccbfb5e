import { randomUUID } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';

export interface JobResult {
  job: string;
  run_id: string;
  '@timestamp': string;
  started: string;
  ended: string;
  duration_ms: number;
  outcome: 'ok' | 'findings' | 'failed' | 'skipped_overlap' | 'missed';
  summary: string;
  findings: unknown[];
  error?: string;
}

export type JobFn = (runId: string) => Promise<{ summary: string; findings: unknown[] }>;

/**
 * node-cron schedules in the configured zone; a job never runs twice at once (an overlapping
 * tick is skipped and recorded), a tick missed while the process was busy is recorded too, and
 * every run's start, end, outcome and findings go to `record` and to metrics.
 */
export class JobRunner {
  readonly tasks = new Map<string, ScheduledTask>();
  private readonly runs;
  private readonly lastRun;
  private readonly findings;

  constructor(private readonly timezone: string, private readonly logger: Logger, metrics: Metrics, private readonly record: (r: JobResult) => Promise<void>) {
    this.runs = metrics.counter('podwatch_scheduler_runs_total', 'Job runs by outcome (ok, findings, failed, skipped_overlap, missed)', ['job', 'outcome']);
    this.lastRun = metrics.gauge('podwatch_scheduler_last_run_timestamp_seconds', 'When each job last finished', ['job']);
    this.findings = metrics.gauge('podwatch_scheduler_findings', 'Findings of each job\'s last run', ['job']);
  }

  add(job: string, schedule: string, fn: JobFn): void {
    const task = cron.schedule(schedule, () => this.run(job, fn), { name: job, timezone: this.timezone, noOverlap: true });
    task.on('execution:overlap', (ctx) => this.skip(job, 'skipped_overlap', `the previous run is still going at ${ctx.triggeredAt.toISOString()}`));
    task.on('execution:missed', (ctx) => this.skip(job, 'missed', `the run due at ${ctx.date.toISOString()} was missed`));
    this.tasks.set(job, task);
  }

  /** Runs a job now (on demand or from the schedule) and records the result. */
  async run(job: string, fn: JobFn): Promise<JobResult> {
    const runId = `${job}-${randomUUID()}`;
    const started = Date.now();
    let r: JobResult;
    try {
      const { summary, findings } = await fn(runId);
      r = this.result(job, runId, started, findings.length ? 'findings' : 'ok', summary, findings);
    } catch (err) {
      this.logger.warn({ job, err: errorMessage(err) }, 'job failed; it runs again at its next time');
      r = this.result(job, runId, started, 'failed', `failed: ${errorMessage(err)}`, [], errorMessage(err));
    }
    this.lastRun.set({ job }, Date.now() / 1000);
    this.findings.set({ job }, r.findings.length);
    await this.save(r);
    return r;
  }

  private skip(job: string, outcome: 'skipped_overlap' | 'missed', why: string): void {
    this.logger.warn({ job, outcome }, why);
    void this.save(this.result(job, `${job}-${randomUUID()}`, Date.now(), outcome, why, []));
  }

  private result(job: string, runId: string, started: number, outcome: JobResult['outcome'], summary: string, findings: unknown[], error?: string): JobResult {
    const ended = Date.now();
    return {
      job, run_id: runId, '@timestamp': new Date(started).toISOString(), started: new Date(started).toISOString(), ended: new Date(ended).toISOString(),
      duration_ms: ended - started, outcome, summary, findings, ...(error ? { error } : {}),
    };
  }

  private async save(r: JobResult): Promise<void> {
    this.runs.inc({ job: r.job, outcome: r.outcome });
    try { await this.record(r); } catch (err) {
      this.logger.warn({ job: r.job, err: errorMessage(err) }, 'cannot store the job result');
    }
  }

  async stop(): Promise<void> {
    for (const t of this.tasks.values()) await t.stop();
  }
}
