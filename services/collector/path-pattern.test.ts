import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { expandPattern } from './path-pattern.ts';

test('wildcards in the file name and in directories expand to existing paths', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-'));
  for (const f of ['a/access.log', 'a/access.log.1', 'a/error.log', 'b/access.log']) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), '');
  }
  assert.deepEqual(expandPattern(`${dir}/a/access.log*`), [`${dir}/a/access.log`, `${dir}/a/access.log.1`]);
  assert.deepEqual(expandPattern(`${dir}/*/access.log`), [`${dir}/a/access.log`, `${dir}/b/access.log`]);
  assert.deepEqual(expandPattern(`${dir}/a/[ae]*.log`), [`${dir}/a/access.log`, `${dir}/a/error.log`]);
  assert.deepEqual(expandPattern(`${dir}/a/missing.log`), [`${dir}/a/missing.log`]);
  assert.deepEqual(expandPattern(`${dir}/nope/*.log`), []);
});
