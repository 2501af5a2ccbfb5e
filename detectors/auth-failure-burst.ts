import { z } from 'zod';
import type { EcsEvent } from '../schemas/event.ts';
import { ms, slide, type Detector, type Finding, type Window } from './lib/types.ts';

const UNKNOWN_CA = /unknown CA|unable to verify the first certificate|unable to get local issuer|self-signed/i;

const params = z.strictObject({
  threshold: z.number().int().min(2).default(5),
  window_ms: z.number().int().positive().default(60_000),
});
type P = z.infer<typeof params>;

const isAuthFailure = (e: EcsEvent) => e.event.category.includes('authentication') && e.event.outcome === 'failure';

/** N authentication failures from one source (IP, else identity) within a window; an unknown-CA certificate alone. */
/** `caUntil`: an unknown-CA certificate from this source was reported; nginx logs one attempt twice (error and access log). */
type S = Window & { caUntil?: number };

export const authFailureBurst: Detector<P, S> = {
  meta: {
    id: 'auth-failure-burst',
    title: 'Burst of failed authentications',
    description: 'Many failed authentications (HTTP 401/403/495/496, rejected or missing client certificates) from one source IP or identity within a short window: password or certificate brute force, or a stolen certificate being tried. A single client certificate from an unknown CA is reported on its own.',
    severity: 'high',
    tactic: { id: 'TA0006', name: 'Credential Access' },
    technique: { id: 'T1110', name: 'Brute Force' },
    fields: ['event.category', 'event.outcome', 'event.reason', 'source.ip', 'user.name', 'tls.client.x509.subject.common_name'],
    falsePositives: ['A client with an expired certificate retrying in a loop', 'A monitoring probe without a certificate'],
  },
  params,
  ttlMs: (p) => p.window_ms * 2,
  keys: (e) => (isAuthFailure(e) ? [e.source?.ip ? `ip:${e.source.ip}` : e.user?.name ? `user:${e.user.name}` : 'unknown'] : []),
  detect(e, state, p, key) {
    const { w, replay } = slide(state, e, p.window_ms) as { w: S; replay: boolean };
    if (replay) return { findings: [], state: w };
    const now = ms(e);
    const findings: Finding[] = [];
    const who = key.replace(/^(ip|user):/, '');
    const entity = { type: key.startsWith('ip:') ? 'source_ip' : 'identity', value: who } as const;
    if (UNKNOWN_CA.test(e.event.reason ?? '') && (w.caUntil === undefined || now >= w.caUntil)) {
      const cn = e.tls?.client?.x509?.subject?.common_name;
      findings.push({ severity: 'medium', summary: `Client certificate from an unknown CA${cn ? ` (CN=${cn})` : ''} presented from ${who}`, entity, evidence: [e], count: 1 });
      w.caUntil = now + p.window_ms;
    }
    if (w.t.length >= p.threshold && (w.alertedUntil === undefined || now >= w.alertedUntil)) {
      findings.push({
        summary: `${w.t.length} failed authentications from ${who} within ${Math.round(p.window_ms / 1000)} s`,
        entity, evidence: [...w.evidence], count: w.t.length,
      });
      // One alert per burst; the alerter re-notifies while it goes on.
      w.alertedUntil = now + p.window_ms;
    }
    return { findings, state: w };
  },
};
