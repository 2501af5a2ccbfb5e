import { Alert } from '../../schemas/alert.ts';
import type { Severity } from '../../schemas/common.ts';

/** A valid alert for tests: rule, entity and time as given; the id follows from them. */
export function testAlert(o: { i: number; atMs: number; rule?: string; entity?: string; severity?: Severity; container?: string; user?: string }): Alert {
  const at = new Date(o.atMs).toISOString();
  const rule = o.rule ?? 'auth-failure-burst';
  return Alert.parse({
    '@timestamp': at,
    event: { kind: 'alert', id: `a${o.i}` },
    alert: {
      id: `${rule}-${o.entity ?? '203.0.113.9'}-${o.i}`, severity: o.severity ?? 'high', summary: `Test alert ${o.i} from ${o.entity ?? '203.0.113.9'}`,
      entity: { type: 'source_ip', value: o.entity ?? '203.0.113.9' }, first_seen: at, last_seen: at, count: 5, event_ids: [`e${o.i}`], events: [],
    },
    rule: { id: rule, name: 'Authentication failure burst' },
    threat: { framework: 'MITRE ATT&CK', tactic: { id: 'TA0006', name: 'Credential Access' }, technique: { id: 'T1110', name: 'Brute Force' } },
    source: { ip: '203.0.113.9' },
    ...(o.user ? { user: { name: o.user } } : {}),
    ...(o.container ? { container: { name: o.container } } : {}),
  });
}
