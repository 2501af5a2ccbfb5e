import { z } from 'zod';
import type { EcsEvent } from '../schemas/event.ts';
import { identityOf, type Detector } from './lib/types.ts';

const params = z.strictObject({
  tiers: z.array(z.enum(['data-exfiltration', 'privilege'])).default(['data-exfiltration', 'privilege']),
});
type P = z.infer<typeof params>;

function why(e: EcsEvent, p: P): string | undefined {
  const api = e.podman?.api;
  if (api?.risk && (p.tiers as string[]).includes(api.risk) && e.observer.type === 'proxy' && e.event.outcome === 'success') {
    return api.showsecret ? 'read a secret\'s value (showsecret=true)' : `performed ${api.operation} (${api.risk})`;
  }
  const c = e.podman?.container;
  if (e.event.action === 'container.create' && c) {
    if (c.privileged) return 'created a privileged container';
    if (c.host_mounts?.length) return `created a container with host mounts ${c.host_mounts.join(', ')}`;
  }
  return undefined;
}

/** Data exfiltration and privilege operations: archive/export, showsecret, image push/save, privileged containers, host mounts. */
export const sensitiveOperation: Detector<P, never> = {
  meta: {
    id: 'sensitive-operation',
    title: 'Sensitive Podman API operation',
    description: 'An operation that copies data out of the host (container archive or export, checkpoint, image push or save, volume export, a secret read with showsecret=true) or gains privilege (container mount, kube play, a privileged container or host bind mounts).',
    severity: 'high',
    tactic: { id: 'TA0010', name: 'Exfiltration' },
    technique: { id: 'T1530', name: 'Data from Cloud Storage' },
    fields: ['podman.api.risk', 'podman.api.operation', 'podman.api.showsecret', 'podman.container.privileged', 'podman.container.host_mounts', 'event.action', 'event.outcome', 'user.name'],
    falsePositives: ['Backups that export containers or volumes (add an exception for the backup identity)'],
  },
  params,
  ttlMs: () => 1,
  keys: (e, p) => (why(e, p) ? ['-'] : []),
  detect(e, _s, p) {
    const who = identityOf(e) ?? e.container?.name ?? 'someone';
    const target = e.container?.name ? ` on ${e.container.name}` : '';
    return { findings: [{ summary: `${who} ${why(e, p)}${target}`, entity: { type: e.user?.name ? 'identity' : 'source_ip', value: who }, evidence: [e], count: 1 }], state: undefined };
  },
};
