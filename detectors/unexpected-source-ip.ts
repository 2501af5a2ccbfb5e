import { z } from 'zod';
import { inCidr, isCidr, parseCidr } from './lib/cidr.ts';
import { ms, type Detector, type Finding } from './lib/types.ts';

const params = z.strictObject({
  /** Networks the API may be reached from; anything else is high severity. */
  allowed_networks: z.array(z.string().refine(isCidr, 'expected an IP network such as 10.0.0.0/8'))
    .default(['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1/128', 'fc00::/7']),
  /** An identity's known IPs are learnt this long before a new one is reported. */
  learning_ms: z.number().int().nonnegative().default(7 * 86_400_000),
  max_ips_per_identity: z.number().int().positive().default(100),
  /** One IP used by this many identities is reported. */
  identities_per_ip: z.number().int().min(2).default(3),
  /** A source already reported is reported again after this long. */
  realert_ms: z.number().int().positive().default(3_600_000),
});
type P = z.infer<typeof params>;
type S = { since?: number; ips?: string[]; users?: string[]; alerted?: number };

const nets = new WeakMap<string[], ReturnType<typeof parseCidr>[]>();
const allowed = (p: P) => { let n = nets.get(p.allowed_networks); if (!n) { n = p.allowed_networks.map(parseCidr); nets.set(p.allowed_networks, n); } return n; };

/** API access from outside the allowed networks, from an IP new for the identity, or one IP shared by many identities. */
export const unexpectedSourceIp: Detector<P, S> = {
  meta: {
    id: 'unexpected-source-ip',
    title: 'API access from an unexpected source address',
    description: 'The Podman API was reached from outside the allowed networks (high), from an address never seen for that identity after its learning period (medium: a certificate used elsewhere), or one address was used by several identities (medium: shared or stolen certificates).',
    severity: 'high',
    tactic: { id: 'TA0001', name: 'Initial Access' },
    technique: { id: 'T1133', name: 'External Remote Services' },
    fields: ['source.ip', 'user.name', 'observer.type'],
    falsePositives: ['A new office or VPN range not yet in allowed_networks', 'An administrator travelling'],
  },
  params,
  ttlMs: (p) => Math.max(p.learning_ms * 4, p.realert_ms),
  keys(e) {
    const ip = e.source?.ip;
    if (!ip || e.observer.type !== 'proxy') return [];
    const keys = [`net:${ip}`];
    if (e.user?.name) keys.push(`user:${e.user.name}`, `ipusers:${ip}`);
    return keys;
  },
  detect(e, state, p, key) {
    const ip = e.source!.ip!;
    const now = ms(e);
    const findings: Finding[] = [];
    const who = e.user?.name ? `${e.user.name} ` : '';
    if (key.startsWith('net:')) {
      if (allowed(p).some((n) => inCidr(ip, n))) return { findings, state };
      if (state?.alerted !== undefined && now - state.alerted < p.realert_ms) return { findings, state };
      findings.push({ summary: `${who}reached the Podman API from ${ip}, outside the allowed networks`, entity: { type: 'source_ip', value: ip }, evidence: [e], count: 1 });
      return { findings, state: { alerted: now } };
    }
    if (key.startsWith('user:')) {
      const s: S = state ?? { since: now, ips: [] };
      if (s.ips!.includes(ip)) return { findings, state: s };
      if (now - s.since! >= p.learning_ms) {
        findings.push({ severity: 'medium', summary: `${e.user!.name} used the Podman API from ${ip} for the first time`, entity: { type: 'identity', value: e.user!.name }, evidence: [e], count: 1 });
      }
      s.ips!.push(ip);
      if (s.ips!.length > p.max_ips_per_identity) s.ips!.shift();
      return { findings, state: s };
    }
    const users = [...(state?.users ?? [])];
    if (users.includes(e.user!.name)) return { findings, state: { ...state, users } };
    users.push(e.user!.name);
    if (users.length === p.identities_per_ip) {
      findings.push({ severity: 'medium', summary: `${users.length} identities (${users.join(', ')}) used the Podman API from ${ip}`, entity: { type: 'source_ip', value: ip }, evidence: [e], count: users.length });
    }
    return { findings, state: { users: users.slice(-50) } };
  },
};
