import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlerterConfig } from '../../schemas/config.ts';
import { Grouper } from './grouping.ts';
import { activeMute, route } from './routing.ts';
import { testAlert } from './test-alerts.ts';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const grouping = (o: object = {}) => AlerterConfig.parse({ grouping: { window_ms: 120_000, realert_ms: 20_000, ...o } }).grouping;

test('1,000 alerts of one group in a minute: one notification, the re-notifications, one summary', () => {
  const g = new Grouper(grouping());
  const kinds: string[] = [];
  let grouped = 0;
  for (let i = 0; i < 1000; i++) {
    const r = g.accept(testAlert({ i, atMs: T0 + i * 60 }), T0, 'p0', String(i));
    kinds.push(...r.notifications.map((n) => n.kind));
    if (r.grouped) grouped++;
  }
  // Alerts span 0..59.94 s: notified at 0 s, then at 20 s and 40 s (realert 20 s).
  assert.deepEqual(kinds, ['alert', 'repeat', 'repeat']);
  assert.equal(grouped, 997);
  const summary = g.sweep(T0 + 120_001);
  assert.equal(summary.length, 1);
  assert.equal(summary[0]!.kind, 'summary');
  assert.equal(summary[0]!.group.alerts, 1000);
  assert.equal(summary[0]!.group.events, 5000);
  assert.equal(summary[0]!.group.first_seen, new Date(T0).toISOString());
  // The last repeat went out with alert 669 (at 40.08 s), so 331 alerts are reported only here.
  assert.equal(summary[0]!.group.since_last, 331);
  assert.equal(g.groups.size, 0);
});

test('a replay from the same state repeats the same notification ids; an applied offset is skipped', () => {
  const run = () => {
    const g = new Grouper(grouping());
    return Array.from({ length: 50 }, (_, i) => g.accept(testAlert({ i, atMs: T0 + i * 1000 }), T0, 'p0', String(i)).notifications.map((n) => n.id)).flat();
  };
  const a = run();
  assert.equal(a.length, 3);
  assert.deepEqual(run(), a);
  const g = new Grouper(grouping());
  g.accept(testAlert({ i: 0, atMs: T0 }), T0, 'p0', '7');
  const again = g.accept(testAlert({ i: 0, atMs: T0 }), T0, 'p0', '7');
  assert.equal(again.replayed, true);
  assert.equal(again.notifications.length, 0);
  assert.equal([...g.groups.values()][0]!.alerts, 1);
});

test('groups are per rule and entity; a gap longer than the window opens a new group', () => {
  const g = new Grouper(grouping());
  const n1 = g.accept(testAlert({ i: 1, atMs: T0, entity: '198.51.100.1' }), T0).notifications;
  const n2 = g.accept(testAlert({ i: 2, atMs: T0, entity: '198.51.100.2' }), T0).notifications;
  const n3 = g.accept(testAlert({ i: 3, atMs: T0 + 1000, rule: 'container-exec', entity: '198.51.100.1' }), T0).notifications;
  assert.deepEqual([n1.length, n2.length, n3.length], [1, 1, 1]);
  g.accept(testAlert({ i: 4, atMs: T0 + 5000, entity: '198.51.100.1' }), T0);
  const later = g.accept(testAlert({ i: 5, atMs: T0 + 300_000, entity: '198.51.100.1' }), T0).notifications;
  assert.deepEqual(later.map((n) => n.kind), ['summary', 'alert'], 'the old group closes with a summary, a new one opens');
  assert.notEqual(later[1]!.id, n1[0]!.id);
});

test('a single-alert group closes without a summary; severity of a group is its highest', () => {
  const g = new Grouper(grouping());
  g.accept(testAlert({ i: 1, atMs: T0, severity: 'low' }), T0);
  assert.deepEqual(g.sweep(T0 + 200_000), []);
  g.accept(testAlert({ i: 2, atMs: T0, severity: 'low' }), T0);
  g.accept(testAlert({ i: 3, atMs: T0 + 1, severity: 'critical' }), T0);
  assert.equal(g.sweep(T0 + 200_000)[0]!.severity, 'critical');
});

test('routing: first match wins, continue adds, default otherwise; expired mutes never match', () => {
  const cfg = AlerterConfig.parse({
    channels: [{ type: 'webhook', name: 'pager', url: 'http://x/' }, { type: 'webhook', name: 'chat', url: 'http://y/' }],
    routes: [
      { match: { min_severity: 'critical' }, channels: ['pager'], continue: true },
      { match: { rule: ['container-*'] }, channels: ['chat'] },
      { match: { entity: ['10.*'], labels: { team: 'infra' } }, channels: ['pager'] },
    ],
    default_channels: ['console'],
  });
  assert.deepEqual(route(cfg, testAlert({ i: 1, atMs: T0, rule: 'container-exec', severity: 'critical' })), ['pager', 'chat']);
  assert.deepEqual(route(cfg, testAlert({ i: 1, atMs: T0, rule: 'container-exec' })), ['chat']);
  assert.deepEqual(route(cfg, testAlert({ i: 1, atMs: T0, entity: '10.0.0.1' })), ['console'], 'labels must match too');
  assert.deepEqual(route(cfg, testAlert({ i: 1, atMs: T0 })), ['console']);
  const mutes = [
    { match: { rule: ['auth-*'] }, until: new Date(T0 + 60_000).toISOString(), by: 'alice', reason: 'pen test' },
  ];
  assert.equal(activeMute(mutes, testAlert({ i: 1, atMs: T0 }), T0)?.by, 'alice');
  assert.equal(activeMute(mutes, testAlert({ i: 1, atMs: T0 }), T0 + 60_001), undefined);
  assert.equal(activeMute(mutes, testAlert({ i: 1, atMs: T0, rule: 'container-exec' }), T0), undefined);
});
