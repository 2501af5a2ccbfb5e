import { z } from 'zod';
import { Ip, Severity, Timestamp } from './common.ts';
import { EcsEvent } from './event.ts';

export const AttackTactic = z.strictObject({ id: z.string().regex(/^TA\d{4}$/), name: z.string() });
export const AttackTechnique = z.strictObject({ id: z.string().regex(/^T\d{4}(\.\d{3})?$/), name: z.string() });

export const Entity = z.strictObject({
  type: z.enum(['identity', 'source_ip', 'container', 'endpoint', 'source']),
  value: z.string().min(1),
});

/** What a detector worker writes to `podwatch.alerts` (and what is indexed as an alert). */
export const Alert = z.strictObject({
  '@timestamp': Timestamp,
  event: z.strictObject({ kind: z.literal('alert'), id: z.string().min(1) }),
  alert: z.strictObject({
    id: z.string().min(1),
    severity: Severity,
    summary: z.string().min(1),
    entity: Entity,
    first_seen: Timestamp,
    last_seen: Timestamp,
    count: z.number().int().positive(),
    event_ids: z.array(z.string()).min(1),
    events: z.array(EcsEvent).max(5).default([]),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  rule: z.strictObject({ id: z.string().min(1), name: z.string().min(1), description: z.string().optional() }),
  threat: z.strictObject({
    framework: z.literal('MITRE ATT&CK'),
    tactic: AttackTactic,
    technique: AttackTechnique,
  }),
  user: z.strictObject({ name: z.string() }).optional(),
  source: z.strictObject({ ip: Ip }).optional(),
  container: z.strictObject({ id: z.string().optional(), name: z.string().optional() }).optional(),
});

export type Alert = z.infer<typeof Alert>;
export type AlertInput = z.input<typeof Alert>;
