import { z } from 'zod';
import type { EcsEvent } from '../schemas/event.ts';
import type { Detector } from './lib/types.ts';

const params = z.strictObject({
  /** role → allowed operations: catalogue names, `prefix.*`, or `tier:<risk>` (e.g. `tier:read`). */
  roles: z.record(z.string(), z.array(z.string())).default({}),
  /** identity → roles. */
  identities: z.record(z.string(), z.array(z.string())).default({}),
  /** Roles of identities not listed; none means unlisted identities may do nothing. */
  default_roles: z.array(z.string()).default([]),
});
type P = z.infer<typeof params>;

function allows(rule: string, e: EcsEvent): boolean {
  const op = e.podman!.api!.operation;
  if (rule.startsWith('tier:')) return e.podman?.api?.risk === rule.slice(5);
  if (rule.endsWith('.*')) return op.startsWith(rule.slice(0, -1));
  return rule === op || rule === '*';
}

/** An operation outside the identity's role in the least-privilege policy, even when the proxy let it through. */
export const authzPolicyViolation: Detector<P, never> = {
  meta: {
    id: 'authz-policy-violation',
    title: 'Operation outside the identity\'s role',
    description: 'Podman has no authorization of its own: every authenticated client may do everything. This detector compares each API operation with a least-privilege policy (roles of allowed operations, identities with roles) and reports what falls outside it. Disabled until roles are configured.',
    severity: 'high',
    tactic: { id: 'TA0004', name: 'Privilege Escalation' },
    technique: { id: 'T1078', name: 'Valid Accounts' },
    fields: ['user.name', 'podman.api.operation', 'podman.api.risk', 'observer.type'],
    falsePositives: ['A policy that lags behind a new, legitimate duty'],
  },
  params,
  ttlMs: () => 1,
  keys: (e, p) => (Object.keys(p.roles).length && e.user?.name && e.podman?.api && e.observer.type === 'proxy' ? ['-'] : []),
  detect(e, _s, p) {
    const user = e.user!.name;
    const roles = p.identities[user] ?? p.default_roles;
    if (roles.some((r) => (p.roles[r] ?? []).some((rule) => allows(rule, e)))) return { findings: [], state: undefined };
    const op = e.podman!.api!.operation;
    return {
      findings: [{ summary: `${user} performed ${op}, which ${roles.length ? `role ${roles.join('/')} does not allow` : 'no role grants'}`, entity: { type: 'identity', value: user }, evidence: [e], count: 1 }],
      state: undefined,
    };
  },
};
