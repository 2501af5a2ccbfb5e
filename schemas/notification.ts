import { z } from 'zod';
import { Severity, Timestamp } from './common.ts';
import { Alert, Entity } from './alert.ts';

/**
 * What the alerter sends: one notification per alert group, re-notification or summary.
 * `id` is stable across redelivery (the webhook `Idempotency-Key`), so receivers can drop repeats.
 * This is the documented `generic` webhook payload (`version` 1).
 */
export const Notification = z.strictObject({
  version: z.literal(1).default(1),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  /** `alert`: a group opened; `repeat`: still active after `realert`; `summary`: the group closed; `test`; `channel-unhealthy`; `report` (access review). */
  kind: z.enum(['alert', 'repeat', 'summary', 'test', 'channel-unhealthy', 'report']),
  '@timestamp': Timestamp,
  severity: Severity,
  title: z.string().min(1),
  summary: z.string().min(1),
  rule: z.strictObject({ id: z.string(), name: z.string() }),
  entity: Entity,
  group: z.strictObject({
    key: z.string(),
    /** Alerts in the group so far, and the events behind them. */
    alerts: z.number().int().nonnegative(),
    events: z.number().int().nonnegative(),
    /** Alerts since the previous notification of this group. */
    since_last: z.number().int().nonnegative(),
    first_seen: Timestamp,
    last_seen: Timestamp,
  }),
  /** The group's latest alert, with up to five evidence events. */
  alert: Alert.optional(),
  /** A scheduled report (the access review) as tables; `data` is the full report document. */
  report: z.strictObject({
    sections: z.array(z.strictObject({ title: z.string(), header: z.array(z.string()), rows: z.array(z.array(z.string())) })),
    data: z.record(z.string(), z.unknown()),
  }).optional(),
});
export type Notification = z.infer<typeof Notification>;

/** A notification parked for another delivery attempt to one channel (`podwatch.alert-retry`). */
export const DeliveryTask = z.strictObject({
  notification: Notification,
  channel: z.string(),
  attempt: z.number().int().positive(),
  first_failed_at: Timestamp,
  next_at: Timestamp,
  last_error: z.string(),
});
export type DeliveryTask = z.infer<typeof DeliveryTask>;
