import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DeadLetter } from '../../schemas/dead-letter.ts';
import { EcsEvent } from '../../schemas/event.ts';
import { parseConfig } from '../common/config.ts';
import { normalize, normalizeContext } from './normalize.ts';

const dir = fileURLToPath(new URL('../../test/fixtures/proxies/', import.meta.url));
const seeds = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).flatMap((f) => fs.readFileSync(dir + f, 'utf8').split('\n').filter(Boolean));
const ctx = normalizeContext(parseConfig({ normalizer: { local_timezone: 'UTC' } }).normalizer);

// A small deterministic PRNG so a failure can be reproduced from its seed.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

function mutate(line: string, r: () => number): { line: string; encoding: 'utf8' | 'base64'; truncated: boolean } {
  const pick = Math.floor(r() * 9);
  const at = Math.floor(r() * line.length);
  switch (pick) {
    case 0: return { line: line.slice(0, at), encoding: 'utf8', truncated: true };
    case 1: return { line: line.slice(0, at) + String.fromCharCode(Math.floor(r() * 32)) + line.slice(at), encoding: 'utf8', truncated: false };
    case 2: return { line: line.slice(0, at) + 'x'.repeat(100_000) + line.slice(at), encoding: 'utf8', truncated: false };
    case 3: return { line: line.replace(/"(\d+)"/, '"$1x"').replace(/"status":"\d+"/, '"status":{"a":1}'), encoding: 'utf8', truncated: false };
    case 4: return { line: Buffer.concat([Buffer.from(line.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(line.slice(at))]).toString('base64'), encoding: 'base64', truncated: false };
    case 5: return { line: line.replace(/:(\d+)/g, ':999999999999'), encoding: 'utf8', truncated: false };
    case 6: return { line: Array.from({ length: 1 + Math.floor(r() * 200) }, () => String.fromCharCode(Math.floor(r() * 0x2fff))).join(''), encoding: 'utf8', truncated: false };
    case 7: return { line: line.replace(/\d{4}/, '9999').replace(/\[\d\d/, '[99'), encoding: 'utf8', truncated: false };
    default: return { line: line.replace(/"[^"]*"/, 'null').replace(/ /g, r() < 0.5 ? '' : ' '), encoding: 'utf8', truncated: false };
  }
}

test('random and mutated lines never crash the normalizer; each becomes exactly one event or one dead letter', () => {
  const r = rng(20261203);
  let events = 0;
  let dead = 0;
  for (let i = 0; i < 5_000; i++) {
    const seed = seeds[Math.floor(r() * seeds.length)]!;
    const m = mutate(seed, r);
    const journal = r() < 0.1 ? { MESSAGE: m.line, SYSLOG_IDENTIFIER: 'podman', __CURSOR: `c${i}`, PODMAN_EVENT: r() < 0.5 ? 'exec' : undefined, PODMAN_TYPE: r() < 0.5 ? 'container' : 7 } : undefined;
    const raw = JSON.stringify({
      id: `fuzz-${i}`, source: { type: journal ? 'journald' : 'file', name: 'fuzz', format: r() < 0.8 ? 'auto' : 'nginx-json' },
      host: 'h', position: { offset: i }, ...(journal ? { journal } : { line: m.line }), encoding: m.encoding, truncated: m.truncated,
      collected_at: '2026-12-03T18:00:00.000Z',
    });
    const out = normalize(r() < 0.02 ? raw.slice(0, Math.floor(raw.length / 2)) : raw, ctx);
    if (out.ok) {
      events++;
      assert.ok(EcsEvent.safeParse(out.event).success);
      assert.equal(out.event.event.id, `fuzz-${i}`);
    } else {
      dead++;
      assert.ok(DeadLetter.safeParse(out.dead).success, 'a dead letter matches its schema');
      assert.ok(out.dead.reason.length > 0);
    }
  }
  assert.equal(events + dead, 5_000);
  assert.ok(events > 500 && dead > 500, `both outcomes exercised (events ${events}, dead ${dead})`);
});
