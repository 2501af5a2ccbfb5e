import type { z } from 'zod';
import type { Entity } from '../../schemas/alert.ts';
import type { Severity } from '../../schemas/common.ts';
import type { EcsEvent } from '../../schemas/event.ts';

export interface AttackRef { id: string; name: string }

/** What a detector says about itself: enough for the README, the alert and the generic test. */
export interface DetectorMeta {
  /** Stable id: alerts, config and exceptions refer to it. */
  id: string;
  title: string;
  description: string;
  severity: Severity;
  tactic: AttackRef;
  technique: AttackRef;
  /** ECS paths the detector reads (checked against the event schema). */
  fields: string[];
  falsePositives: string[];
}

/** An alert as a detector proposes it; the worker adds ids, ATT&CK, exceptions and delivery. */
export interface Finding {
  severity?: Severity;
  summary: string;
  entity: z.infer<typeof Entity>;
  /** The events that are the evidence, oldest first; the alert id derives from their ids. */
  evidence: EcsEvent[];
  /** How many events the finding covers (may exceed the evidence kept). */
  count: number;
}

export interface DetectResult<S> { findings: Finding[]; state: S | undefined }

/**
 * A detector: metadata, its parameters (zod, with defaults), which state key an event touches
 * (none: the event is not relevant), and a function over (event, state, params) with no I/O and
 * no clock (time comes from `@timestamp`). The state object belongs to the detector: it may
 * update it in place (hot paths do) or return a new one; it must stay JSON-serialisable.
 */
export interface Detector<P = any, S = any> {
  meta: DetectorMeta;
  params: z.ZodType<P, any>;
  /** The state keys an event touches (one `detect` call each); none: not relevant. */
  keys(event: EcsEvent, params: P): string[];
  detect(event: EcsEvent, state: S | undefined, params: P, key: string): DetectResult<S>;
  /** When idle state may be forgotten: event time of its last use + this. */
  ttlMs(params: P): number;
}

export const ms = (e: EcsEvent) => Date.parse(e['@timestamp']);


export const identityOf = (e: EcsEvent): string | undefined => e.user?.name ?? e.source?.ip;

/** A sliding window of event times and ids; a replayed event (same id) is not counted twice. */
export interface Window { t: number[]; ids: string[]; evidence: EcsEvent[]; alertedUntil?: number }

export function slide(w: Window | undefined, e: EcsEvent, windowMs: number, maxKeep = 1000): { w: Window; replay: boolean } {
  const now = ms(e);
  const cur: Window = w ? { ...w, t: [...w.t], ids: [...w.ids], evidence: [...w.evidence] } : { t: [], ids: [], evidence: [] };
  if (cur.ids.includes(e.event.id)) return { w: cur, replay: true };
  while (cur.t.length && cur.t[0]! <= now - windowMs) { cur.t.shift(); cur.ids.shift(); cur.evidence.shift(); }
  cur.t.push(now); cur.ids.push(e.event.id);
  cur.evidence.push(e);
  if (cur.t.length > maxKeep) { cur.t.shift(); cur.ids.shift(); }
  // Evidence keeps the first few of the window and the newest, not the whole window.
  if (cur.evidence.length > 5) cur.evidence.splice(4, cur.evidence.length - 5);
  return { w: cur, replay: false };
}
