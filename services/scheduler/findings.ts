import { createHash } from 'node:crypto';
import { Alert } from '../../schemas/alert.ts';
import type { Severity } from '../../schemas/common.ts';

/** The rules the scheduler's jobs raise, with their ATT&CK mapping. */
export const JOB_RULES = {
  'source-silent': { name: 'Log source silent', severity: 'high', tactic: { id: 'TA0005', name: 'Defense Evasion' }, technique: { id: 'T1562.006', name: 'Indicator Blocking' },
    description: 'A log source, collector host or the Podman events feed stopped sending: logging may have been turned off.' },
  'source-resumed': { name: 'Log source resumed', severity: 'low', tactic: { id: 'TA0005', name: 'Defense Evasion' }, technique: { id: 'T1562.006', name: 'Indicator Blocking' },
    description: 'A source that was silent sends events again; review what happened in the gap.' },
  'pipeline-stalled': { name: 'Podwatch pipeline stalled', severity: 'high', tactic: { id: 'TA0005', name: 'Defense Evasion' }, technique: { id: 'T1562.001', name: 'Disable or Modify Tools' },
    description: 'A Podwatch stage is not keeping up: its consumer lag is high and not shrinking.' },
  'api-posture': { name: 'Podman API exposure regression', severity: 'high', tactic: { id: 'TA0001', name: 'Initial Access' }, technique: { id: 'T1133', name: 'External Remote Services' },
    description: 'The Podman API endpoint accepts something its expected posture forbids (plaintext, old TLS, no client certificate, expiring certificate).' },
} as const;

export type JobRule = keyof typeof JOB_RULES;

/** An alert raised by a job, with an id stable for the same rule, entity and occasion. */
export function jobAlert(o: { rule: JobRule; entity: { type: 'source' | 'endpoint'; value: string }; summary: string; atMs: number; occasion: string; runId: string; severity?: Severity; firstSeenMs?: number }): Alert {
  const r = JOB_RULES[o.rule];
  const id = createHash('sha256').update(`${o.rule}\0${o.entity.type}:${o.entity.value}\0${o.occasion}`).digest('hex').slice(0, 32);
  const at = new Date(o.atMs).toISOString();
  return Alert.parse({
    '@timestamp': at,
    event: { kind: 'alert', id },
    alert: {
      id, severity: o.severity ?? r.severity, summary: o.summary, entity: o.entity,
      first_seen: new Date(o.firstSeenMs ?? o.atMs).toISOString(), last_seen: at, count: 1, event_ids: [o.runId], events: [],
      labels: { job: o.rule === 'api-posture' ? 'posture' : 'heartbeat' },
    },
    rule: { id: o.rule, name: r.name, description: r.description },
    threat: { framework: 'MITRE ATT&CK', tactic: r.tactic, technique: r.technique },
  });
}
