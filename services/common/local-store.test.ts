import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UserError } from './errors.ts';
import { compileQuery, LocalStore, searchLocal } from './local-store.ts';

const doc = (id: string, at: string, o: object = {}) => ({ '@timestamp': at, event: { id, kind: 'event', action: 'container.exec.create' }, source: { ip: '10.1.2.3' }, user: { name: 'alice' }, message: 'Exec into Web', ...o });

test('query subset: field:value, quotes, wildcards, NOT and -, CIDR, free text; the rest is refused', () => {
  const d = doc('1', '2026-12-01T00:00:00Z');
  const q = (s: string) => compileQuery(s)(d);
  assert.equal(q('user.name:alice'), true);
  assert.equal(q('user.name:bob'), false);
  assert.equal(q('event.action:container.exec.*'), true);
  assert.equal(q('source.ip:"10.0.0.0/8" AND user.name:alice'), true);
  assert.equal(q('source.ip:"192.168.0.0/16"'), false);
  assert.equal(q('NOT user.name:alice'), false);
  assert.equal(q('-user.name:bob'), true);
  assert.equal(q('web'), true, 'free text, case-insensitive');
  assert.equal(q('message:"Exec into Web"'), true);
  assert.throws(() => compileQuery('user.name:alice OR user.name:bob'), UserError);
  assert.throws(() => compileQuery('(user.name:alice)'), UserError);
});

test('store: daily files, roll-over at the size limit, retention, a replayed record found once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-store-'));
  const store = new LocalStore({ dir, retention_days: 30, max_file_mb: 1 });
  const big = 'x'.repeat(300_000);
  for (let i = 0; i < 5; i++) store.add('events', doc(`e${i}`, `2026-12-01T00:00:0${i}Z`, { message: big }));
  store.flush();
  store.add('events', doc('e0', '2026-12-01T00:00:00Z', { message: big }));
  store.add('events', doc('old', '2026-10-01T00:00:00Z'));
  store.flush();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['events-2026-10-01.ndjson', 'events-2026-12-01.ndjson', 'events-2026-12-01.ndjson.1']);
  const r = await searchLocal(dir, ['events'], 'user.name:alice', {}, 100);
  assert.equal(r.total, 6, 'five plus the old one; the replayed e0 once');
  assert.deepEqual(r.hits.slice(0, 2).map((h: any) => h.event.id), ['e4', 'e3'], 'newest first');
  const two = await searchLocal(dir, ['events'], 'user.name:alice', {}, 2);
  assert.deepEqual([two.hits.map((h: any) => h.event.id), two.total], [['e4', 'e3'], 6], 'the newest within the limit, all counted');
  const one = await searchLocal(dir, ['events'], 'user.name:alice', {}, 1);
  assert.deepEqual([one.hits.map((h: any) => h.event.id), one.total], [['e4'], 6]);
  assert.deepEqual(store.prune(Date.parse('2026-12-03T00:00:00Z')), ['events-2026-10-01.ndjson']);
  assert.equal((await searchLocal(dir, ['events'], '', { since: '2026-12-01T00:00:03Z' }, 100)).total, 2);
});
