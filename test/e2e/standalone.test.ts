import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import type { AccessReview } from '../../services/scheduler/review.ts';
import { curl, startLab, type Lab } from '../helpers/lab.ts';
import { spawnPodwatch, waitUntil, type Proc } from '../helpers/process.ts';
import { startWebhookReceiver } from '../helpers/webhook.ts';

let lab: Lab | undefined;
let proc: Proc | undefined;
after(async () => { await proc?.stop('SIGKILL'); lab?.stop(); });

const alertLines = (p: Proc) => p.output().split('\n').filter((l) => /^\[(LOW|MEDIUM|HIGH|CRITICAL)\] /.test(l));

test('standalone: real nginx + Podman; failed-auth burst, exec and unexpected source alert; a restart repeats and loses nothing', async () => {
  lab = startLab(18543);
  const hook = await startWebhookReceiver();
  const file = path.join(lab.dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({
    store: { dir: path.join(lab.dir, 'store') },
    alerter: { channels: [{ type: 'webhook', name: 'soc', url: hook.url }], routes: [{ match: { min_severity: 'medium' }, channels: ['soc'] }] },
    collector: {
      checkpoint_dir: path.join(lab.dir, 'data'), start_at: 'beginning', poll_interval_ms: 100, http: { port: 0 },
      sources: [
        { type: 'file', name: 'nginx-access', paths: [path.join(lab.logs, 'access.json.log')], format: 'nginx-json' },
        { type: 'file', name: 'nginx-error', paths: [path.join(lab.logs, 'error.log')], format: 'nginx-error' },
      ],
    },
    normalizer: { local_timezone: 'UTC' },
    detectors: { 'unexpected-source-ip': { params: { allowed_networks: ['127.0.0.1/32'] } } },
  }));
  proc = spawnPodwatch(['run', '--standalone', '--config', file]);
  await proc.waitForOutput(/is watching/);

  assert.equal(curl(lab, '/v4.0.0/libpod/info', { cert: 'alice' }), '200');
  for (let i = 0; i < 5; i++) curl(lab, '/v4.0.0/libpod/info');                    // no client certificate
  await waitUntil(() => alertLines(proc!).some((l) => l.includes('auth-failure-burst')), 20_000, 'the burst alert');

  // Restart in the middle: what was read is not alerted twice, what comes next is not lost.
  assert.equal(await proc.stop('SIGTERM'), 0);
  const firstRun = alertLines(proc);
  proc = spawnPodwatch(['run', '--standalone', '--config', file]);
  await proc.waitForOutput(/is watching/);
  assert.equal(curl(lab, '/v4.0.0/libpod/containers/web/exec', { cert: 'alice', method: 'POST', body: '{"Cmd":["id"]}' }), '201');
  assert.equal(curl(lab, '/v4.0.0/libpod/info', { cert: 'bob', from: '127.0.0.66' }), '200');
  await waitUntil(() => alertLines(proc!).some((l) => l.includes('container-exec')) && alertLines(proc!).some((l) => l.includes('unexpected-source-ip')), 20_000, 'exec and source alerts');
  await new Promise((r) => setTimeout(r, 1000));
  const secondRun = alertLines(proc);
  assert.equal(firstRun.filter((l) => l.includes('auth-failure-burst')).length, 1);
  assert.equal(secondRun.filter((l) => l.includes('auth-failure-burst')).length, 0, 'no repeated alert after the restart');
  assert.match(secondRun.find((l) => l.includes('container-exec'))!, /^\[HIGH\] .* alice exec'd into web .*for the first time$/);
  assert.match(secondRun.find((l) => l.includes('unexpected-source-ip'))!, /bob reached the Podman API from 127\.0\.0\.66, outside the allowed networks/);
  assert.equal(await proc.stop('SIGTERM'), 0);
  proc = undefined;

  // The same alerts reached the webhook (console always gets them too), each once.
  const notified = hook.accepted().map((r) => JSON.parse(r.body) as { rule: { id: string }; id: string });
  await hook.close();
  for (const rule of ['auth-failure-burst', 'container-exec', 'unexpected-source-ip']) assert.equal(notified.filter((n) => n.rule.id === rule).length, 1, `${rule} notified once`);
  assert.equal(new Set(notified.map((n) => n.id)).size, notified.length);
  // Every request is in the embedded store exactly once, across the restart, and podwatch search finds it.
  const search = spawnPodwatch(['search', 'event.dataset:nginx.access', '--json', '--limit', '1000', '--config', file]);
  assert.equal(await search.stop('SIGCONT'), 0, search.output());
  const events = search.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: { id: string }; user?: { name: string } });
  assert.equal(events.length, 8, 'one alice request, five without a certificate, the exec, bob from 127.0.0.66');
  assert.equal(new Set(events.map((e) => e.event.id)).size, 8);
  assert.deepEqual(events.map((e) => e.user?.name ?? '-').sort(), ['-', '-', '-', '-', '-', 'alice', 'alice', 'bob']);
  const table = spawnPodwatch(['alerts', '--config', file]);
  assert.equal(await table.stop('SIGCONT'), 0);
  assert.match(table.output(), /container-exec/);
  assert.match(table.output(), /3 of 3 shown \(local store/);
});

test('the Quick start command: no configuration at all starts on defaults and says what it watches', async () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-quickstart-'));
  const p = spawnPodwatch(['run', '--standalone'], { cwd, env: { PODWATCH_CONFIG: '' } });
  try {
    await p.waitForOutput(/is watching/, 30_000);
    assert.match(p.output(), /nginx-access: \/var\/log\/nginx\/podman-access\.log, \/var\/log\/nginx\/access\.log/);
    assert.match(p.output(), /Alerts are printed here/);
    assert.equal(await p.stop('SIGTERM'), 0);
    assert.ok(fs.existsSync(path.join(cwd, 'data', 'checkpoints')), 'checkpoints under ./data');
  } finally {
    await p.stop('SIGKILL');
  }
});

/** Standalone on one nginx JSON log in a scratch directory: the log, the config file and a line writer. */
function onOneLog(tag: string, extra: Record<string, unknown> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `podwatch-standalone-${tag}-`));
  const log = path.join(dir, 'access.json.log');
  fs.writeFileSync(log, '');
  const file = path.join(dir, 'podwatch.yaml');
  fs.writeFileSync(file, stringify({
    store: { dir: path.join(dir, 'store') },
    collector: { checkpoint_dir: path.join(dir, 'data'), start_at: 'beginning', poll_interval_ms: 50, http: { port: 0 }, sources: [{ type: 'file', name: 'access', paths: [log], format: 'nginx-json' }] },
    normalizer: { local_timezone: 'UTC' },
    ...extra,
  }));
  // Lines of the real capture, stamped now.
  const capture = fs.readFileSync(new URL('../fixtures/proxies/nginx-access.json.log', import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const append = (records: Array<Record<string, string>>) => fs.appendFileSync(log, records.map((r) => `${JSON.stringify({ ...r, msec: (Date.now() / 1000).toFixed(3) })}\n`).join(''));
  return { dir, log, file, capture, append };
}

test('standalone killed -9 between failures: the checkpoint never runs ahead of the detector state, the burst alerts once', async () => {
  const { dir, log, file, capture, append } = onOneLog('kill');
  // A request nginx refused for want of a client certificate, from the real capture.
  const refused = capture.find((r) => r.ssl_client_verify === 'NONE' && r.status === '400')!;
  let n = 0;
  const fail = (count: number) => append(Array.from({ length: count }, () => ({ ...refused, remote_addr: '127.0.0.77', request_id: `kill-${n++}` })));
  const checkpointed = () => {
    try {
      const cp = JSON.parse(fs.readFileSync(path.join(dir, 'data', 'access.json'), 'utf8')) as { files: Record<string, { offset: number }> };
      return Object.values(cp.files).some((f) => f.offset === fs.statSync(log).size);
    } catch { return false; }
  };
  const start = async () => { const p = spawnPodwatch(['run', '--standalone', '--config', file]); await p.waitForOutput(/is watching/); return p; };

  proc = await start();
  fail(1);
  await waitUntil(checkpointed, 10_000, 'the first failure checkpointed');
  fail(2);                                           // right after a snapshot: the next is up to a second away
  await waitUntil(checkpointed, 10_000, 'the next two failures checkpointed');
  await proc.stop('SIGKILL');
  assert.equal(alertLines(proc).length, 0, 'three failures are not a burst yet');

  proc = await start();
  fail(2);
  await waitUntil(() => alertLines(proc!).some((l) => l.includes('auth-failure-burst')), 10_000, 'the burst of five across the crash');
  await waitUntil(checkpointed, 10_000, 'the last failures checkpointed');
  assert.equal(await proc.stop('SIGTERM'), 0);
  assert.equal(alertLines(proc).filter((l) => l.includes('auth-failure-burst')).length, 1);
  proc = undefined;
  const search = spawnPodwatch(['search', 'event.dataset:nginx.access', '--json', '--limit', '100', '--config', file]);
  assert.equal(await search.stop('SIGCONT'), 0, search.output());
  const ids = search.output().split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { event: { id: string } }).event.id);
  assert.equal(ids.length, 5, 'five failures stored, none twice');
  assert.equal(new Set(ids).size, 5);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('standalone runs the heartbeat, the posture check and the access review: a silent source alerts once, its return is noticed, a plaintext API is reported, the review is kept and printed', async () => {
  // An "API" that answers plain HTTP: exactly what the posture check must report.
  const plain = http.createServer((_req, res) => res.end('OK'));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  const port = (plain.address() as { port: number }).port;
  const { dir, file, capture, append } = onOneLog('jobs', {
    scheduler: {
      heartbeat: { schedule: '* * * * * *', sources: [{ name: 'edge-nginx', match: { 'event.dataset': 'nginx.access' }, max_silence_ms: 3_000 }] },
      posture: { schedule: '*/2 * * * * *', endpoints: [{ name: 'plain-api', host: '127.0.0.1', port, path: '/_ping' }], timeout_ms: 1_000 },
      access_review: { schedule: '*/5 * * * * *' },
    },
  });
  const beat = () => append([capture[0]!]);
  beat();
  proc = spawnPodwatch(['run', '--standalone', '--config', file]);
  try {
    await proc.waitForOutput(/is watching/);
    assert.match(proc.output(), /jobs: heartbeat, posture, access_review/);
    const lines = (rule: string) => alertLines(proc!).filter((l) => l.includes(` ${rule}: `));
    for (let i = 0; i < 4; i++) { await new Promise((r) => setTimeout(r, 700)); beat(); }
    assert.deepEqual(lines('source-silent'), [], 'no alert while events keep coming');
    await waitUntil(() => lines('source-silent').length >= 1, 15_000, 'the silence alert');
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(lines('source-silent').length, 1, 'one alert per silence, not one per run');
    assert.match(lines('source-silent')[0]!, /^\[HIGH\] .* No events from edge-nginx for \d+ s/);
    beat();
    await waitUntil(() => lines('source-resumed').length >= 1, 10_000, 'the recovery notice');
    assert.match(lines('source-resumed')[0]!, /^\[LOW\] .* Events from edge-nginx arrive again/);
    await waitUntil(() => lines('api-posture').length >= 1, 10_000, 'the posture finding');
    assert.match(lines('api-posture')[0]!, /^\[CRITICAL\] .* plain-api answers plain HTTP without TLS on port \d+/);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(lines('api-posture').length, 1, 'runs every 2 s, grouped into one notification');
    // The access review over the local store: kept beside the events and printed.
    const reviews = path.join(dir, 'store', 'reviews');
    const kept = (): AccessReview | undefined => {
      const files = fs.existsSync(reviews) ? fs.readdirSync(reviews).filter((f) => f.endsWith('.json')) : [];
      return files.length ? JSON.parse(fs.readFileSync(path.join(reviews, files[0]!), 'utf8')) as AccessReview : undefined;
    };
    await waitUntil(() => (kept()?.totals.events ?? 0) >= 6, 15_000, 'a stored review counting all six events read');
    await waitUntil(() => lines('access-review').length >= 1, 5_000, 'the review printed');
    assert.match(lines('access-review').at(-1)!, new RegExp(`^\\[LOW\\] .* Access review .*: ${kept()!.totals.identities} identities`));
    assert.equal(await proc.stop('SIGTERM'), 0);
  } finally {
    await proc.stop('SIGKILL');
    proc = undefined;
    plain.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('standalone makes up for a weekly review that fell due while it was down, once', async () => {
  const { dir, file } = onOneLog('catchup', { scheduler: { access_review: { schedule: '0 7 * * 1' }, heartbeat: { enabled: false } } });
  const history = path.join(dir, 'data', 'jobs.json');
  fs.mkdirSync(path.dirname(history), { recursive: true });
  const lastRun = new Date(Date.now() - 15 * 86_400_000).toISOString();        // two or three Mondays ago
  fs.writeFileSync(history, JSON.stringify({ access_review: lastRun }));
  const reviewLines = (p: Proc) => alertLines(p).filter((l) => l.includes(' access-review: '));
  try {
    const started = Date.now();
    proc = spawnPodwatch(['run', '--standalone', '--config', file]);
    await waitUntil(() => reviewLines(proc!).length === 1, 15_000, 'the make-up review');
    assert.match(proc.output(), /[23] runs due from \S+ to \S+ were missed while no scheduler was running/);
    assert.equal(await proc.stop('SIGTERM'), 0);
    const recorded = JSON.parse(fs.readFileSync(history, 'utf8')) as Record<string, string>;
    assert.ok(Date.parse(recorded.access_review!) >= started, `the make-up run is recorded (${recorded.access_review})`);

    // Started again the same day: nothing is due, nothing is repeated.
    proc = spawnPodwatch(['run', '--standalone', '--config', file]);
    await proc.waitForOutput(/is watching/);
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(reviewLines(proc).length, 0);
    assert.doesNotMatch(proc.output(), /missed while no scheduler was running/);
    assert.equal(await proc.stop('SIGTERM'), 0);
  } finally {
    await proc?.stop('SIGKILL');
    proc = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
