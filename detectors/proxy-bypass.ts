import { z } from 'zod';
import type { EcsEvent } from '../schemas/event.ts';
import { ms, type Detector } from './lib/types.ts';

const params = z.strictObject({
  /** How far apart the proxy's and Podman's records of one request may be. */
  window_ms: z.number().int().positive().default(5_000),
  max_pending: z.number().int().positive().default(5_000),
});
type P = z.infer<typeof params>;

interface Pending { m: string; t: number; e: EcsEvent }
/** `proxy`: request signature → times the proxy logged it, not yet matched. */
interface S { proxy: Record<string, number[]>; pending: Pending[]; n: number; size: number }

const sig = (e: EcsEvent) => `${e.http?.request?.method ?? ''} ${e.url?.path ?? ''}${e.url?.query ? `?${e.url.query}` : ''}`;
const isProxyRequest = (e: EcsEvent) => e.observer.type === 'proxy' && Boolean(e.podman?.api) && e.event.outcome !== 'unknown';
const isPodmanRequest = (e: EcsEvent) => e.event.dataset === 'podman.api' && Boolean(e.http?.request?.method);

/**
 * A request in the Podman API service's own log with no matching proxy record (same method and
 * URI within the window): someone reached the socket or port directly, around the proxy and
 * its client certificates. Needs the proxy's and Podman's records of one host on one worker:
 * `normalizer.partition_key: host` in distributed mode (standalone always has them together).
 */
export const proxyBypass: Detector<P, S> = {
  meta: {
    id: 'proxy-bypass',
    title: 'Podman API reached around the proxy',
    description: 'Podman logged an API request that the TLS proxy never saw: a client used the Podman socket or a TCP listener directly, bypassing client-certificate authentication and the audit trail of the proxy.',
    severity: 'high',
    tactic: { id: 'TA0005', name: 'Defense Evasion' },
    technique: { id: 'T1599', name: 'Network Boundary Bridging' },
    fields: ['event.dataset', 'observer.type', 'http.request.method', 'url.path', 'url.query', 'host.name', 'podman.api.operation'],
    falsePositives: ['Local tools on the host that use the socket on purpose (podman-remote, systemd units): add an exception for their operations or user agent'],
  },
  params,
  ttlMs: (p) => p.window_ms * 10,
  keys: (e) => (isProxyRequest(e) || isPodmanRequest(e) ? [e.host?.name ?? 'unknown'] : []),
  detect(e, state, p, key) {
    const now = ms(e);
    const s: S = state ?? { proxy: {}, pending: [], n: 0, size: 0 };
    const m = sig(e);
    // Every so often, drop proxy records too old to match anything.
    if (++s.n % 1000 === 0) {
      s.size = 0;
      for (const [k, times] of Object.entries(s.proxy)) {
        const kept = times.filter((t) => t > now - 2 * p.window_ms);
        if (kept.length) { s.proxy[k] = kept; s.size += kept.length; } else delete s.proxy[k];
      }
    }
    if (isProxyRequest(e)) {
      const i = s.pending.findIndex((x) => x.m === m && Math.abs(x.t - now) <= p.window_ms);
      if (i !== -1) s.pending.splice(i, 1);
      else if (s.size < p.max_pending) { (s.proxy[m] ??= []).push(now); s.size++; }
    } else {
      const times = s.proxy[m];
      const i = times ? times.findIndex((t) => Math.abs(t - now) <= p.window_ms) : -1;
      if (i !== -1) { times!.splice(i, 1); s.size--; if (!times!.length) delete s.proxy[m]; }
      else if (!s.pending.some((x) => x.e.event.id === e.event.id) && s.pending.length < p.max_pending) s.pending.push({ m, t: now, e });
    }
    // Requests whose window closed without a proxy record are bypasses.
    const expired = s.pending.filter((x) => x.t < now - p.window_ms);
    s.pending = s.pending.filter((x) => x.t >= now - p.window_ms);
    return {
      findings: expired.map((x) => ({
        summary: `Podman on ${key} served ${x.m.split('?')[0]} (${x.e.podman?.api?.operation ?? 'unknown'}) that the proxy never saw`,
        entity: { type: 'endpoint' as const, value: key }, evidence: [x.e], count: 1,
      })),
      state: s.size || s.pending.length ? s : undefined,
    };
  },
};
