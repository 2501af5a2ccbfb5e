import { z } from 'zod';
import { ms, slide, type Detector, type Window } from './lib/types.ts';

const params = z.strictObject({
  threshold: z.number().int().min(2).default(10),
  window_ms: z.number().int().positive().default(60_000),
});
type P = z.infer<typeof params>;

/** Bursts of TLS handshake failures from one address: scanners and downgrade probing. */
export const tlsHandshakeFailures: Detector<P, Window> = {
  meta: {
    id: 'tls-handshake-failures',
    title: 'Burst of TLS handshake failures',
    description: 'Many failed TLS handshakes (unsupported versions, no shared cipher, plaintext to the TLS port) from one source within a short window: a TLS scanner or a downgrade attempt against the API.',
    severity: 'medium',
    tactic: { id: 'TA0043', name: 'Reconnaissance' },
    technique: { id: 'T1595', name: 'Active Scanning' },
    fields: ['event.action', 'event.category', 'source.ip'],
    falsePositives: ['Vulnerability scanners run by the security team', 'Load balancer health checks speaking plain TCP'],
  },
  params,
  ttlMs: (p) => p.window_ms * 2,
  keys: (e) => (e.event.action.startsWith('tls.handshake') || e.event.action === 'tls.plaintext_request' ? [e.source?.ip ?? 'unknown'] : []),
  detect(e, state, p, key) {
    const { w, replay } = slide(state, e, p.window_ms);
    if (replay || w.t.length < p.threshold || (w.alertedUntil !== undefined && ms(e) < w.alertedUntil)) return { findings: [], state: w };
    w.alertedUntil = ms(e) + p.window_ms;
    return {
      findings: [{ summary: `${w.t.length} failed TLS handshakes from ${key} within ${Math.round(p.window_ms / 1000)} s`, entity: { type: 'source_ip', value: key }, evidence: [...w.evidence], count: w.t.length }],
      state: w,
    };
  },
};
