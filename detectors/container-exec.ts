import { z } from 'zod';
import type { EcsEvent } from '../schemas/event.ts';
import { identityOf, type Detector } from './lib/types.ts';

const params = z.strictObject({
  /** How long an identity's "has exec'd before" is remembered without use. */
  memory_ms: z.number().int().positive().default(90 * 86_400_000),
});
type P = z.infer<typeof params>;
interface S { first: string; count: number }

// An exec through the API is seen at the proxy (create); one from the podman CLI only as an
// event carrying the command line (journald `_CMDLINE`). Podman's own API log line and the
// events-file exec event repeat an API exec, so they are not counted again here.
function isExec(e: EcsEvent): boolean {
  if (e.event.action === 'container.exec.create') return e.observer.type === 'proxy' && e.event.outcome === 'success';
  return e.event.action === 'container.exec' && Boolean(e.podman?.exec?.command);
}

/** Every exec into a container, attributed; higher severity for an identity's first exec. */
export const containerExec: Detector<P, S> = {
  meta: {
    id: 'container-exec',
    title: 'Exec into a container',
    description: 'A command was executed inside a running container through the API (or the podman CLI). Exec gives a shell in the container\'s context: its data, secrets and network. Raised to high when the identity never exec\'d before.',
    severity: 'medium',
    tactic: { id: 'TA0002', name: 'Execution' },
    technique: { id: 'T1609', name: 'Container Administration Command' },
    fields: ['event.action', 'event.outcome', 'observer.type', 'user.name', 'source.ip', 'container.name', 'container.id', 'podman.exec.command'],
    falsePositives: ['Operators debugging a container', 'CI jobs that run tests with exec (add an exception)'],
  },
  params,
  ttlMs: (p) => p.memory_ms,
  keys: (e) => (isExec(e) ? [identityOf(e) ?? 'unknown'] : []),
  detect(e, state, _p, key) {
    const first = state === undefined;
    const target = e.container?.name ?? e.container?.id?.slice(0, 12) ?? 'a container';
    const cmd = e.podman?.exec?.command?.length ? ` (${e.podman.exec.command.join(' ')})` : '';
    const from = e.source?.ip && e.source.ip !== key ? ` from ${e.source.ip}` : '';
    return {
      findings: [{
        severity: first ? 'high' : 'medium',
        summary: `${key} exec'd into ${target}${cmd}${from}${first ? ' for the first time' : ''}`,
        entity: { type: e.user?.name ? 'identity' : 'source_ip', value: key },
        evidence: [e], count: 1,
      }],
      state: { first: state?.first ?? e['@timestamp'], count: (state?.count ?? 0) + 1 },
    };
  },
};
