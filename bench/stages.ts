// In-process stage throughput: normalizer (parse + ECS + validation) and all detectors, on one
// core, over events built from the real fixture captures. Prints a table and JSON.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { EcsEvent } from '../schemas/event.ts';
import { parseConfig } from '../services/common/config.ts';
import { DetectionEngine, enabledDetectors } from '../services/detector/engine.ts';
import { normalize, normalizeContext } from '../services/normalizer/normalize.ts';

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const dir = fileURLToPath(new URL('../test/fixtures/proxies/', import.meta.url));
const lines = fs.readFileSync(`${dir}nginx-access.json.log`, 'utf8').split('\n').filter(Boolean);
const cfg = parseConfig({ normalizer: { local_timezone: 'UTC' } });
const ctx = normalizeContext(cfg.normalizer);

// Raw records as the collector writes them, with varied identities, addresses and times.
const raws: string[] = [];
for (let i = 0; i < N; i++) {
  const line = lines[i % lines.length]!
    .replace(/"remote_addr":"[^"]*"/, `"remote_addr":"10.${(i >> 8) & 255}.${i & 255}.${i % 7}"`)
    .replace(/CN=(alice|bob)/, `CN=user${i % 50}`)
    .replace(/"msec":"[^"]*"/, `"msec":"${(1796300000 + i / 1000).toFixed(3)}"`);
  raws.push(JSON.stringify({ id: `b${i}`, source: { type: 'file', name: 'bench', format: 'auto' }, host: 'h', position: { offset: i }, line, collected_at: '2026-12-03T00:00:00.000Z' }));
}

function measure<T>(name: string, fn: () => T): { name: string; events: number; seconds: number; perSecond: number; result: T } {
  const t0 = process.hrtime.bigint();
  const result = fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { name, events: N, seconds, perSecond: Math.round(N / seconds), result };
}

// The normalizer pass keeps nothing, as the service does (it hands each event on); the events
// for the detector pass are made afterwards, outside the measurement.
const norm = measure('normalizer', () => {
  let ok = 0;
  for (const r of raws) if (normalize(r, ctx).ok) ok++;
  return ok;
});
const events: EcsEvent[] = [];
for (const r of raws) { const o = normalize(r, ctx); if (o.ok) events.push(o.event); }
const det = measure('detectors (all)', () => {
  const engine = new DetectionEngine(enabledDetectors(cfg));
  let alerts = 0;
  for (const e of events) alerts += engine.process(e).length;
  return alerts;
});
const rows = [norm, det].map(({ result: _r, ...r }) => r);
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}, one core (single thread)`);
console.table(rows);
console.log(JSON.stringify({ stages: rows, rssMiB: Math.round(process.memoryUsage().rss / 1048576), alerts: det.result }));
