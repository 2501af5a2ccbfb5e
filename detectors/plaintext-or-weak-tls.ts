import { z } from 'zod';
import type { EcsEvent } from '../schemas/event.ts';
import { ms, type Detector } from './lib/types.ts';

const params = z.strictObject({
  min_tls_version: z.enum(['1.2', '1.3']).default('1.2'),
  weak_ciphers: z.string().default('RC4|DES|NULL|EXPORT|MD5|anon'),
  realert_ms: z.number().int().positive().default(3_600_000),
});
type P = z.infer<typeof params>;

function finding(e: EcsEvent, p: P): string | undefined {
  const action = e.event.action;
  if (action === 'tls.plaintext_request') return 'sent a plaintext HTTP request to the TLS port';
  if (action === 'tls.handshake.failed' && /unsupported protocol|version/i.test(e.event.reason ?? '')) return 'attempted a TLS handshake with an old protocol version';
  if (e.observer.type !== 'proxy' || !e.http) return undefined;
  if (e.tls?.established === false || (e.tls === undefined && e.event.dataset !== 'nginx.access')) return 'reached the API without TLS';
  const v = e.tls?.version;
  if (v && Number(v) < Number(p.min_tls_version)) return `used TLS ${v}, below the minimum ${p.min_tls_version}`;
  if (e.tls?.cipher && new RegExp(p.weak_ciphers).test(e.tls.cipher)) return `used the weak cipher ${e.tls.cipher}`;
  return undefined;
}

/** API access without TLS, with an old TLS version or a weak cipher, and attempts at either. */
export const plaintextOrWeakTls: Detector<P, { at: number }> = {
  meta: {
    id: 'plaintext-or-weak-tls',
    title: 'Plaintext or weak TLS to the Podman API',
    description: 'A client spoke plaintext HTTP to the API\'s TLS port, attempted or used a TLS version below the configured minimum, or a weak cipher: credentials and container data could be read or downgraded on the wire.',
    severity: 'medium',
    tactic: { id: 'TA0006', name: 'Credential Access' },
    technique: { id: 'T1557', name: 'Adversary-in-the-Middle' },
    fields: ['event.action', 'event.reason', 'tls.established', 'tls.version', 'tls.cipher', 'source.ip', 'observer.type'],
    falsePositives: ['Old clients or scanners run by the security team'],
  },
  params,
  ttlMs: (p) => p.realert_ms,
  keys: (e, p) => { const what = finding(e, p); return what ? [`${e.source?.ip ?? 'unknown'}|${what}`] : []; },
  detect(e, state, p) {
    const now = ms(e);
    if (state && now - state.at < p.realert_ms) return { findings: [], state };
    const what = finding(e, p)!;
    const who = e.user?.name ?? e.source?.ip ?? 'a client';
    return {
      findings: [{ summary: `${who} ${what}`, entity: { type: e.user?.name ? 'identity' : 'source_ip', value: who }, evidence: [e], count: 1 }],
      state: { at: now },
    };
  },
};
