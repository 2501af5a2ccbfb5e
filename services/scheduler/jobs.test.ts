import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SchedulerConfig } from '../../schemas/config.ts';
import { memoryLogger } from '../../test/helpers/log.ts';
import { waitUntil } from '../../test/helpers/process.ts';
import { createMetrics } from '../common/metrics.ts';
import { Heartbeat } from './heartbeat.ts';
import { JobRunner, dueBetween, type JobResult } from './jobs.ts';

test('a job that runs longer than its interval is never started twice; the skipped tick is recorded', async () => {
  const results: JobResult[] = [];
  const runner = new JobRunner('UTC', memoryLogger('error').logger, createMetrics('test'), async (r) => { results.push(r); });
  let active = 0;
  let maxActive = 0;
  let starts = 0;
  runner.add('slow', '* * * * * *', async () => {
    starts++;
    active++;
    maxActive = Math.max(maxActive, active);
    await new Promise((r) => setTimeout(r, 2_500));
    active--;
    return { summary: 'done', findings: [] };
  });
  await new Promise((r) => setTimeout(r, 5_600));
  await runner.stop();
  assert.equal(maxActive, 1, 'never two runs at once');
  assert.ok(starts >= 1 && starts <= 2, `started ${starts} times in 5.6 s`);
  assert.ok(results.filter((r) => r.outcome === 'skipped_overlap').length >= 2, 'the ticks during a run are recorded as skipped');
  assert.ok(results.some((r) => r.outcome === 'ok' && r.duration_ms >= 2_400));
});

test('a failing job is recorded as failed with its error and runs again', async () => {
  const results: JobResult[] = [];
  const runner = new JobRunner('UTC', memoryLogger('error').logger, createMetrics('test'), async (r) => { results.push(r); });
  const r = await runner.run('broken', async () => { throw new Error('index missing'); });
  assert.equal(r?.outcome, 'failed');
  assert.equal(r?.error, 'index missing');
  assert.equal(results.length, 1);
});

test('heartbeat: one silent alert per episode, one resumed notice; lag above the limit and not shrinking is a stall', () => {
  const cfg = SchedulerConfig.parse({ heartbeat: { max_consumer_lag: 100 } }).heartbeat;
  const hb = new Heartbeat(cfg);
  const now = Date.parse('2026-12-01T12:00:00Z');
  const src = (lastAgoMs: number | undefined) => [{ name: 'nginx', kind: 'source' as const, max_silence_ms: 60_000, ...(lastAgoMs === undefined ? {} : { last_seen: new Date(now - lastAgoMs).toISOString(), silent_ms: lastAgoMs }), silent: lastAgoMs === undefined || lastAgoMs > 60_000 }];
  assert.deepEqual(hb.evaluate(src(10_000), [], now, 'r1').alerts, []);
  const first = hb.evaluate(src(70_000), [], now, 'r2').alerts;
  assert.deepEqual(first.map((a) => a.rule.id), ['source-silent']);
  assert.match(first[0]!.alert.summary, /No events from nginx for 70 s/);
  assert.deepEqual(hb.evaluate(src(130_000), [], now + 60_000, 'r3').alerts, [], 'still the same episode');
  const back = hb.evaluate(src(1_000), [], now + 120_000, 'r4').alerts;
  assert.deepEqual(back.map((a) => a.rule.id), ['source-resumed']);
  const lag = (n: number) => [{ group: 'podwatch-detector', topic: 'podwatch.events', lag: n }];
  assert.deepEqual(hb.evaluate([], lag(500), now, 'l1').alerts, [], 'first sight: no trend yet');
  assert.deepEqual(hb.evaluate([], lag(400), now, 'l2').alerts, [], 'shrinking: catching up');
  assert.deepEqual(hb.evaluate([], lag(450), now, 'l3').alerts.map((a) => a.rule.id), ['pipeline-stalled']);
  assert.deepEqual(hb.evaluate([], lag(50), now, 'l4').alerts, []);
});

test('due times missed while no scheduler ran, in the configured time zone', () => {
  // Mondays 07:00 in Berlin: 06:00 UTC in winter, 05:00 UTC in summer (DST ends 2026-10-25).
  const due = dueBetween('0 7 * * 1', 'Europe/Berlin', new Date('2026-10-12T06:00:00Z'), new Date('2026-11-03T12:00:00Z'));
  assert.deepEqual(due.map((d) => d.toISOString()), ['2026-10-19T05:00:00.000Z', '2026-10-26T06:00:00.000Z', '2026-11-02T06:00:00.000Z']);
  assert.deepEqual(dueBetween('0 7 * * 1', 'UTC', new Date('2026-11-02T07:00:00Z'), new Date('2026-11-09T06:59:00Z')), [], 'the last run itself is not missed');
  assert.equal(dueBetween('*/10 * * * * *', 'UTC', new Date('2026-11-02T07:00:00Z'), new Date('2026-11-02T07:01:00Z')).length, 6, 'six-field patterns to the second');
});

test('a catch-up run and a scheduled run of one job never overlap; the missed runs are one record', async () => {
  const results: JobResult[] = [];
  const runner = new JobRunner('UTC', memoryLogger('error').logger, createMetrics('test'), async (r) => { results.push(r); });
  let runs = 0;
  const slow = async () => { runs++; await new Promise((r) => setTimeout(r, 300)); return { summary: 'done', findings: [] }; };
  runner.add('review', '0 7 * * 1', slow);
  runner.add('posture', '0 7 * * 1', slow);
  // The review last ran 15 days ago (two or three Mondays since); the posture check never ran here.
  await runner.catchUp(async (job) => (job === 'review' ? new Date(Date.now() - 15 * 86_400_000) : undefined));
  assert.equal(await runner.run('review', slow), undefined, 'the make-up run is still going');
  await waitUntil(() => results.some((r) => r.outcome === 'ok'), 5_000, 'the make-up run');
  await runner.stop();
  assert.equal(runs, 1, 'one make-up run, nothing for a job without a last run');
  assert.deepEqual(results.map((r) => [r.job, r.outcome]), [['review', 'missed'], ['review', 'skipped_overlap'], ['review', 'ok']]);
  assert.match(results[0]!.summary, /^[23] runs due from \S+ to \S+ were missed while no scheduler was running$/);
});
