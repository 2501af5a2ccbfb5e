import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
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
