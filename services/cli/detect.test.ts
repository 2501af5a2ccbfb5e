import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/podwatch.js', import.meta.url));
const log = fileURLToPath(new URL('../../test/fixtures/proxies/nginx-access.json.log', import.meta.url));

test('podwatch normalize access.log | podwatch detect shows what the capture would have alerted on', () => {
  const events = execFileSync(process.execPath, [bin, 'normalize', '--dlq', '/dev/null', log], { encoding: 'utf8' });
  const out = execFileSync(process.execPath, [bin, 'detect'], { input: `${events}not json\n{"valid":"no"}\n`, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  const alerts = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(alerts.map((a) => [a.rule.id, a.alert.severity]), [
    ['container-exec', 'high'], ['sensitive-operation', 'high'], ['sensitive-operation', 'high'], ['auth-failure-burst', 'medium'],
  ]);
  const only = execFileSync(process.execPath, [bin, 'detect', '--detector', 'container-exec'], { input: events, encoding: 'utf8' });
  assert.equal(only.trim().split('\n').length, 1);
});
