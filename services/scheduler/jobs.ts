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
 * The due times of `schedule` (in `timezone`) after `since` and up to `until`, at most `limit`:
 * the runs no scheduler was there to start. Scans minute by minute (second by second for a
 * six-field pattern) over at most 100,000 steps, so a very long absence reports its most
 * recent part only.
 */
export function dueBetween(schedule: string, timezone: string, since: Date, until: Date, limit = 1000): Date[] {
  const step = schedule.trim().split(/\s+/).length === 6 ? 1000 : 60_000;
  const task = cron.createTask(schedule, () => undefined, { timezone });
  const due: Date[] = [];
  try {
    const first = Math.max(Math.floor(since.getTime() / step) * step + step, until.getTime() - 100_000 * step);
    for (let t = first; t <= until.getTime(); t += step) {
      if (!task.match(new Date(t))) continue;
      due.push(new Date(t));
      if (due.length > limit) due.shift();
    }
  } finally {
    void task.destroy();
  }
  return due;
}

/**
 * node-cron schedules in the configured zone; a job never runs twice at once (an overlapping
 * tick or catch-up is skipped and recorded), a tick missed while the process was busy or down
 * is recorded too, and every run's start, end, outcome and findings go to `record` and to
 * metrics.
 */
export class JobRunner {
  readonly tasks = new Map<string, ScheduledTask>();
  private readonly jobs = new Map<string, { schedule: string; fn: JobFn }>();
  private readonly runs;
  private readonly lastRun;
  private readonly findings;
  private readonly running = new Set<string>();

  constructor(private readonly timezone: string, private readonly logger: Logger, metrics: Metrics, private readonly record: (r: JobResult) => Promise<void>) {
    this.runs = metrics.counter('podwatch_scheduler_runs_total', 'Job runs by outcome (ok, findings, failed, skipped_overlap, missed)', ['job', 'outcome']);
    this.lastRun = metrics.gauge('podwatch_scheduler_last_run_timestamp_seconds', 'When each job last finished', ['job']);
    this.findings = metrics.gauge('podwatch_scheduler_findings', 'Findings of each job\'s last run', ['job']);
  }

  add(job: string, schedule: string, fn: JobFn): void {
    // node-cron's own messages (missed ticks) are recorded as results below; its console output
    // would bypass the structured log.
    const log = this.logger.child({ job, component: 'node-cron' });
    const cronLogger = { info: (m: string) => log.debug(m), warn: (m: string) => log.debug(m), debug: (m: string | Error) => log.debug(String(m)), error: (m: string | Error) => log.warn(String(m)) };
    // Overlaps are caught in run(), which guards scheduled ticks and catch-up runs alike.
    const task = cron.schedule(schedule, () => this.run(job, fn), { name: job, timezone: this.timezone, logger: cronLogger });
    task.on('execution:missed', (ctx) => this.skip(job, 'missed', `the run due at ${ctx.date.toISOString()} was missed`));
    this.tasks.set(job, task);
    this.jobs.set(job, { schedule, fn });
  }

  /**
   * Runs that fell due while no scheduler was running, since each job's last real run as
   * `lastRunStart` knows it, are recorded as one `missed` result and made up for by one run now:
   * a weekly review must not be skipped because the process restarted on a Monday morning.
   */
  async catchUp(lastRunStart: (job: string) => Promise<Date | undefined>): Promise<void> {
    for (const [job, { schedule, fn }] of this.jobs) {
      const last = await lastRunStart(job).catch((err) => { this.logger.warn({ job, err: errorMessage(err) }, 'cannot read the last run; missed runs are not checked'); return undefined; });
      const due = last ? dueBetween(schedule, this.timezone, last, new Date()) : [];
      if (!due.length) continue;
      this.reportMissed(job, due);
      void this.run(job, fn);
    }
  }

  /** Runs a job now (on demand, from the schedule or to catch up) and records the result. */
  async run(job: string, fn: JobFn): Promise<JobResult | undefined> {
    if (this.running.has(job)) {
      this.skip(job, 'skipped_overlap', `the previous run is still going at ${new Date().toISOString()}`);
      return undefined;
    }
    this.running.add(job);
    const runId = `${job}-${randomUUID()}`;
    const started = Date.now();
    let r: JobResult;
    try {
      const { summary, findings } = await fn(runId);
      r = this.result(job, runId, started, findings.length ? 'findings' : 'ok', summary, findings);
    } catch (err) {
      this.logger.warn({ job, err: errorMessage(err) }, 'job failed; it runs again at its next time');
      r = this.result(job, runId, started, 'failed', `failed: ${errorMessage(err)}`, [], errorMessage(err));
    } finally {
      this.running.delete(job);
    }
    this.lastRun.set({ job }, Date.now() / 1000);
    this.findings.set({ job }, r.findings.length);
    await this.save(r);
    return r;
  }

  /** Records runs that were due while no scheduler ran (one result for all of them). */
  private reportMissed(job: string, due: readonly Date[]): void {
    const when = due.length === 1 ? `the run due at ${due[0]!.toISOString()} was` : `${due.length} runs due from ${due[0]!.toISOString()} to ${due[due.length - 1]!.toISOString()} were`;
    this.skip(job, 'missed', `${when} missed while no scheduler was running`);
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
