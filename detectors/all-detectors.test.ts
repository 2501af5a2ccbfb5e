import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EcsEvent } from '../schemas/event.ts';
import { DETECTORS } from './index.ts';
import type { Detector } from './lib/types.ts';

const dir = fileURLToPath(new URL('./', import.meta.url));

/** Parameters the fixtures assume where the defaults disable a detector. */
const FIXTURE_PARAMS: Record<string, unknown> = {
  'authz-policy-violation': { roles: { reader: ['tier:read'] }, identities: { alice: ['reader'] } },
};

function hasPath(schema: z.ZodType, path: string[]): boolean {
  let cur: any = schema;
  for (const part of path) {
    while (cur && (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault || cur instanceof z.ZodArray || cur instanceof z.ZodNullable)) {
      cur = cur instanceof z.ZodArray ? cur.element : cur.unwrap();
    }
    if (!(cur instanceof z.ZodObject)) return false;
    cur = (cur.shape as Record<string, z.ZodType>)[part];
    if (!cur) return false;
  }
  return true;
}

function run(d: Detector, events: EcsEvent[]) {
  const params = d.params.parse(FIXTURE_PARAMS[d.meta.id] ?? {});
  const states = new Map<string, unknown>();
  let findings = 0;
  for (const e of events) {
    for (const key of d.keys(e, params)) {
      const r = d.detect(e, states.get(key), params, key);
      states.set(key, r.state);
      findings += r.findings.length;
    }
  }
  return findings;
}

test('detector ids are unique, kebab-case, and name their file', () => {
  const ids = DETECTORS.map((d) => d.meta.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) {
    assert.match(id, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(fs.existsSync(`${dir}${id}.ts`), `${id}.ts`);
    assert.ok(fs.existsSync(`${dir}${id}.test.ts`), `${id}.test.ts`);
  }
});

for (const d of DETECTORS) {
  describe(d.meta.id, () => {
    test('metadata: ATT&CK ids, description, false positives', () => {
      assert.match(d.meta.tactic.id, /^TA\d{4}$/);
      assert.match(d.meta.technique.id, /^T\d{4}(\.\d{3})?$/);
      assert.ok(d.meta.tactic.name && d.meta.technique.name && d.meta.title);
      assert.ok(d.meta.description.length > 40);
      assert.ok(d.meta.falsePositives.length > 0);
      assert.ok(d.params.safeParse({}).success, 'every parameter has a default');
    });
    test('every field it reads exists in the event schema', () => {
      for (const f of d.meta.fields) assert.ok(hasPath(EcsEvent, f.split('.')), `${f} is not in schemas/event.ts`);
    });
    test('positive fixtures alert, negative fixtures do not', () => {
      const read = (kind: string) => fs.readFileSync(`${dir}${d.meta.id}.${kind}.ndjson`, 'utf8').split('\n').filter(Boolean).map((l) => EcsEvent.parse(JSON.parse(l)));
      assert.ok(run(d, read('positive')) > 0, 'positive fixtures produced no finding');
      assert.equal(run(d, read('negative')), 0, 'negative fixtures produced a finding');
    });
  });
}
