import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EVENT_MAPPINGS } from './templates.ts';

const file = fileURLToPath(new URL('../../deploy/kibana/podwatch-saved-objects.ndjson', import.meta.url));

test('the Kibana saved objects are well-formed, self-contained, and name mapped fields', () => {
  const objs = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const ids = new Set(objs.map((o) => `${o.type}:${o.id}`));
  assert.deepEqual(objs.filter((o) => o.type === 'index-pattern').map((o) => o.attributes.timeFieldName), ['@timestamp', '@timestamp']);
  const mapped = (path: string) => path.split('.').reduce<any>((m, p) => m?.properties?.[p] ?? m?.[p], EVENT_MAPPINGS) !== undefined;
  for (const s of objs.filter((o) => o.type === 'search')) {
    for (const r of s.references) assert.ok(ids.has(`${r.type}:${r.id}`), `${s.id} refers to missing ${r.id}`);
    const source = JSON.parse(s.attributes.kibanaSavedObjectMeta.searchSourceJSON);
    assert.equal(source.query.language, 'kuery');
    if (s.references[0].id === 'podwatch-events') for (const c of s.attributes.columns) assert.ok(mapped(c), `${s.id}: column ${c} is not mapped`);
  }
  assert.ok(objs.some((o) => o.id === 'podwatch-exec-activity') && objs.some((o) => o.id === 'podwatch-auth-failures') && objs.some((o) => o.id === 'podwatch-activity-by-identity'));
});
