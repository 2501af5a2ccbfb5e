import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Alert } from './alert.ts';
import { RawRecord } from './raw.ts';

const alert = {
  '@timestamp': '2026-12-01T10:00:00.000Z',
  event: { kind: 'alert', id: 'x' },
  alert: {
    id: 'x', severity: 'high', summary: '5 failed authentications from 10.0.0.9', entity: { type: 'source_ip', value: '10.0.0.9' },
    first_seen: '2026-12-01T09:59:00.000Z', last_seen: '2026-12-01T10:00:00.000Z', count: 5, event_ids: ['e1'],
  },
  rule: { id: 'auth-failure-burst', name: 'Burst of failed authentications' },
  threat: { framework: 'MITRE ATT&CK', tactic: { id: 'TA0006', name: 'Credential Access' }, technique: { id: 'T1110', name: 'Brute Force' } },
};

test('an alert with ATT&CK ids passes; a malformed technique id does not', () => {
  assert.deepEqual(Alert.parse(alert).alert.events, []);
  const bad = { ...alert, threat: { ...alert.threat, technique: { id: '1110', name: 'x' } } };
  assert.equal(Alert.safeParse(bad).success, false);
});

test('an alert needs at least one triggering event id', () => {
  assert.equal(Alert.safeParse({ ...alert, alert: { ...alert.alert, event_ids: [] } }).success, false);
});

test('a raw record defaults encoding and truncation flags', () => {
  const r = RawRecord.parse({
    id: 'r1', source: { type: 'file', name: 'nginx' }, host: 'h', path: '/var/log/nginx/access.log',
    position: { dev: 1, inode: 2, offset: 0 }, line: 'x', collected_at: '2026-12-01T10:00:00.000Z',
  });
  assert.equal(r.encoding, 'utf8');
  assert.equal(r.truncated, false);
  assert.equal(r.source.format, 'auto');
});
