import type { RiskTier } from '../../schemas/common.ts';

/**
 * The Podman API catalogue: method + path → named operation and risk tier, for the libpod
 * routes (`/v4.x/libpod/...`, `/v5.x/libpod/...`, or unversioned `/libpod/...`) and the
 * Docker-compatible ones (`/v1.41/...` or unversioned). `{name}` and `{id}` match one segment.
 * `api` says which flavours serve the route.
 */
export interface CatalogueEntry {
  operation: string;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  api: 'libpod' | 'compat' | 'both';
  risk: RiskTier;
}

export const CATALOGUE: readonly CatalogueEntry[] = [
  // system
  { operation: 'system.ping', method: 'GET', path: '/_ping', api: 'both', risk: 'read' },
  { operation: 'system.ping', method: 'HEAD', path: '/_ping', api: 'both', risk: 'read' },
  { operation: 'system.info', method: 'GET', path: '/info', api: 'both', risk: 'read' },
  { operation: 'system.version', method: 'GET', path: '/version', api: 'both', risk: 'read' },
  { operation: 'system.events', method: 'GET', path: '/events', api: 'both', risk: 'read' },
  { operation: 'system.df', method: 'GET', path: '/system/df', api: 'both', risk: 'read' },
  { operation: 'system.prune', method: 'POST', path: '/system/prune', api: 'libpod', risk: 'write' },
  { operation: 'system.auth', method: 'POST', path: '/auth', api: 'compat', risk: 'write' },
  // containers
  { operation: 'container.list', method: 'GET', path: '/containers/json', api: 'both', risk: 'read' },
  { operation: 'container.create', method: 'POST', path: '/containers/create', api: 'both', risk: 'write' },
  { operation: 'container.inspect', method: 'GET', path: '/containers/{name}/json', api: 'both', risk: 'read' },
  { operation: 'container.exists', method: 'GET', path: '/containers/{name}/exists', api: 'libpod', risk: 'read' },
  { operation: 'container.start', method: 'POST', path: '/containers/{name}/start', api: 'both', risk: 'write' },
  { operation: 'container.stop', method: 'POST', path: '/containers/{name}/stop', api: 'both', risk: 'write' },
  { operation: 'container.restart', method: 'POST', path: '/containers/{name}/restart', api: 'both', risk: 'write' },
  { operation: 'container.kill', method: 'POST', path: '/containers/{name}/kill', api: 'both', risk: 'write' },
  { operation: 'container.pause', method: 'POST', path: '/containers/{name}/pause', api: 'both', risk: 'write' },
  { operation: 'container.unpause', method: 'POST', path: '/containers/{name}/unpause', api: 'both', risk: 'write' },
  { operation: 'container.rename', method: 'POST', path: '/containers/{name}/rename', api: 'both', risk: 'write' },
  { operation: 'container.update', method: 'POST', path: '/containers/{name}/update', api: 'both', risk: 'write' },
  { operation: 'container.wait', method: 'POST', path: '/containers/{name}/wait', api: 'both', risk: 'read' },
  { operation: 'container.delete', method: 'DELETE', path: '/containers/{name}', api: 'both', risk: 'write' },
  { operation: 'container.prune', method: 'POST', path: '/containers/prune', api: 'both', risk: 'write' },
  { operation: 'container.logs', method: 'GET', path: '/containers/{name}/logs', api: 'both', risk: 'read' },
  { operation: 'container.top', method: 'GET', path: '/containers/{name}/top', api: 'both', risk: 'read' },
  { operation: 'container.stats', method: 'GET', path: '/containers/{name}/stats', api: 'both', risk: 'read' },
  { operation: 'container.stats', method: 'GET', path: '/containers/stats', api: 'libpod', risk: 'read' },
  { operation: 'container.changes', method: 'GET', path: '/containers/{name}/changes', api: 'both', risk: 'read' },
  { operation: 'container.attach', method: 'POST', path: '/containers/{name}/attach', api: 'both', risk: 'exec' },
  { operation: 'container.exec.create', method: 'POST', path: '/containers/{name}/exec', api: 'both', risk: 'exec' },
  { operation: 'container.exec.start', method: 'POST', path: '/exec/{id}/start', api: 'both', risk: 'exec' },
  { operation: 'container.exec.resize', method: 'POST', path: '/exec/{id}/resize', api: 'both', risk: 'exec' },
  { operation: 'container.exec.inspect', method: 'GET', path: '/exec/{id}/json', api: 'both', risk: 'read' },
  { operation: 'container.archive.get', method: 'GET', path: '/containers/{name}/archive', api: 'both', risk: 'data-exfiltration' },
  { operation: 'container.archive.stat', method: 'HEAD', path: '/containers/{name}/archive', api: 'compat', risk: 'read' },
  { operation: 'container.archive.put', method: 'PUT', path: '/containers/{name}/archive', api: 'both', risk: 'write' },
  { operation: 'container.export', method: 'GET', path: '/containers/{name}/export', api: 'both', risk: 'data-exfiltration' },
  { operation: 'container.checkpoint', method: 'POST', path: '/containers/{name}/checkpoint', api: 'libpod', risk: 'data-exfiltration' },
  { operation: 'container.restore', method: 'POST', path: '/containers/{name}/restore', api: 'libpod', risk: 'write' },
  { operation: 'container.commit', method: 'POST', path: '/commit', api: 'both', risk: 'write' },
  { operation: 'container.mount', method: 'POST', path: '/containers/{name}/mount', api: 'libpod', risk: 'privilege' },
  { operation: 'container.init', method: 'POST', path: '/containers/{name}/init', api: 'libpod', risk: 'write' },
  { operation: 'container.healthcheck', method: 'GET', path: '/containers/{name}/healthcheck', api: 'libpod', risk: 'read' },
  { operation: 'generate.systemd', method: 'GET', path: '/generate/{name}/systemd', api: 'libpod', risk: 'read' },
  { operation: 'generate.kube', method: 'GET', path: '/generate/kube', api: 'libpod', risk: 'read' },
  { operation: 'kube.play', method: 'POST', path: '/play/kube', api: 'libpod', risk: 'privilege' },
  { operation: 'kube.play', method: 'POST', path: '/kube/play', api: 'libpod', risk: 'privilege' },
  { operation: 'kube.down', method: 'DELETE', path: '/play/kube', api: 'libpod', risk: 'write' },
  // pods
  { operation: 'pod.list', method: 'GET', path: '/pods/json', api: 'libpod', risk: 'read' },
  { operation: 'pod.create', method: 'POST', path: '/pods/create', api: 'libpod', risk: 'write' },
  { operation: 'pod.inspect', method: 'GET', path: '/pods/{name}/json', api: 'libpod', risk: 'read' },
  { operation: 'pod.start', method: 'POST', path: '/pods/{name}/start', api: 'libpod', risk: 'write' },
  { operation: 'pod.stop', method: 'POST', path: '/pods/{name}/stop', api: 'libpod', risk: 'write' },
  { operation: 'pod.kill', method: 'POST', path: '/pods/{name}/kill', api: 'libpod', risk: 'write' },
  { operation: 'pod.delete', method: 'DELETE', path: '/pods/{name}', api: 'libpod', risk: 'write' },
  // images
  { operation: 'image.list', method: 'GET', path: '/images/json', api: 'both', risk: 'read' },
  { operation: 'image.inspect', method: 'GET', path: '/images/{name}/json', api: 'both', risk: 'read' },
  { operation: 'image.history', method: 'GET', path: '/images/{name}/history', api: 'both', risk: 'read' },
  { operation: 'image.search', method: 'GET', path: '/images/search', api: 'both', risk: 'read' },
  { operation: 'image.pull', method: 'POST', path: '/images/pull', api: 'libpod', risk: 'write' },
  { operation: 'image.pull', method: 'POST', path: '/images/create', api: 'compat', risk: 'write' },
  { operation: 'image.push', method: 'POST', path: '/images/{name}/push', api: 'both', risk: 'data-exfiltration' },
  { operation: 'image.save', method: 'GET', path: '/images/{name}/get', api: 'both', risk: 'data-exfiltration' },
  { operation: 'image.save', method: 'GET', path: '/images/get', api: 'compat', risk: 'data-exfiltration' },
  { operation: 'image.save', method: 'GET', path: '/images/export', api: 'libpod', risk: 'data-exfiltration' },
  { operation: 'image.load', method: 'POST', path: '/images/load', api: 'both', risk: 'write' },
  { operation: 'image.import', method: 'POST', path: '/images/import', api: 'libpod', risk: 'write' },
  { operation: 'image.tag', method: 'POST', path: '/images/{name}/tag', api: 'both', risk: 'write' },
  { operation: 'image.delete', method: 'DELETE', path: '/images/{name}', api: 'both', risk: 'write' },
  { operation: 'image.prune', method: 'POST', path: '/images/prune', api: 'both', risk: 'write' },
  { operation: 'image.build', method: 'POST', path: '/build', api: 'both', risk: 'write' },
  // secrets
  { operation: 'secret.list', method: 'GET', path: '/secrets/json', api: 'libpod', risk: 'read' },
  { operation: 'secret.list', method: 'GET', path: '/secrets', api: 'compat', risk: 'read' },
  { operation: 'secret.inspect', method: 'GET', path: '/secrets/{name}/json', api: 'libpod', risk: 'read' },
  { operation: 'secret.inspect', method: 'GET', path: '/secrets/{name}', api: 'compat', risk: 'read' },
  { operation: 'secret.create', method: 'POST', path: '/secrets/create', api: 'both', risk: 'write' },
  { operation: 'secret.delete', method: 'DELETE', path: '/secrets/{name}', api: 'both', risk: 'write' },
  // volumes
  { operation: 'volume.list', method: 'GET', path: '/volumes/json', api: 'libpod', risk: 'read' },
  { operation: 'volume.list', method: 'GET', path: '/volumes', api: 'compat', risk: 'read' },
  { operation: 'volume.create', method: 'POST', path: '/volumes/create', api: 'both', risk: 'write' },
  { operation: 'volume.inspect', method: 'GET', path: '/volumes/{name}/json', api: 'libpod', risk: 'read' },
  { operation: 'volume.inspect', method: 'GET', path: '/volumes/{name}', api: 'compat', risk: 'read' },
  { operation: 'volume.delete', method: 'DELETE', path: '/volumes/{name}', api: 'both', risk: 'write' },
  { operation: 'volume.export', method: 'GET', path: '/volumes/{name}/export', api: 'libpod', risk: 'data-exfiltration' },
  { operation: 'volume.import', method: 'POST', path: '/volumes/{name}/import', api: 'libpod', risk: 'write' },
  { operation: 'volume.prune', method: 'POST', path: '/volumes/prune', api: 'both', risk: 'write' },
  // networks
  { operation: 'network.list', method: 'GET', path: '/networks/json', api: 'libpod', risk: 'read' },
  { operation: 'network.list', method: 'GET', path: '/networks', api: 'compat', risk: 'read' },
  { operation: 'network.create', method: 'POST', path: '/networks/create', api: 'both', risk: 'write' },
  { operation: 'network.inspect', method: 'GET', path: '/networks/{name}/json', api: 'libpod', risk: 'read' },
  { operation: 'network.inspect', method: 'GET', path: '/networks/{name}', api: 'compat', risk: 'read' },
  { operation: 'network.delete', method: 'DELETE', path: '/networks/{name}', api: 'both', risk: 'write' },
  { operation: 'network.connect', method: 'POST', path: '/networks/{name}/connect', api: 'both', risk: 'write' },
  { operation: 'network.disconnect', method: 'POST', path: '/networks/{name}/disconnect', api: 'both', risk: 'write' },
];

export const OPERATIONS: ReadonlySet<string> = new Set(CATALOGUE.map((e) => e.operation));

export interface ApiMatch {
  operation: string;
  flavour: 'libpod' | 'compat' | 'unknown';
  version?: string;
  risk?: RiskTier;
  /** The `{name}` segment: a container, image, secret... name or id. */
  target?: string;
  showsecret?: boolean;
}

interface Compiled { entry: CatalogueEntry; re: RegExp; hasTarget: boolean }

const byMethod = new Map<string, Compiled[]>();
for (const entry of CATALOGUE) {
  const re = new RegExp(`^${entry.path.replace(/[.]/g, '\\.').replace(/\{(name|id)\}/g, '([^/]+)')}/?$`);
  const list = byMethod.get(entry.method) ?? [];
  list.push({ entry, re, hasTarget: /\{(name|id)\}/.test(entry.path) });
  byMethod.set(entry.method, list);
}
// Literal routes first, so `/containers/json` is never taken for `/containers/{name}`.
for (const list of byMethod.values()) list.sort((a, b) => Number(a.hasTarget) - Number(b.hasTarget));

const LIBPOD = /^(?:\/v(\d+(?:\.\d+){0,2}))?\/libpod(\/.*)$/;
const COMPAT = /^(?:\/v(\d+\.\d+))?(\/.*)$/;

/** Names the operation a request performs; unknown routes are `unknown`, never dropped. */
export function lookupOperation(method: string, rawPath: string, query = ''): ApiMatch {
  let path = rawPath;
  try { path = decodeURI(rawPath); } catch { /* keep the raw path */ }
  let flavour: 'libpod' | 'compat';
  let version: string | undefined;
  let rest: string;
  const lib = LIBPOD.exec(path);
  if (lib) {
    flavour = 'libpod'; version = lib[1]; rest = lib[2]!;
  } else {
    const compat = COMPAT.exec(path);
    if (!compat) return { operation: 'unknown', flavour: 'unknown' };
    flavour = 'compat'; version = compat[1]; rest = compat[2]!;
  }
  for (const c of byMethod.get(method.toUpperCase()) ?? []) {
    if (c.entry.api !== 'both' && c.entry.api !== flavour) continue;
    const m = c.re.exec(rest);
    if (!m) continue;
    const match: ApiMatch = { operation: c.entry.operation, flavour, risk: c.entry.risk, ...(version ? { version } : {}) };
    if (m[1]) match.target = m[1];
    if (c.entry.operation === 'secret.inspect' && /(?:^|&)showsecret=(?:true|1)(?:&|$)/i.test(query)) {
      // The secret's value in the response: reading it is exfiltration.
      match.showsecret = true;
      match.risk = 'data-exfiltration';
    }
    return match;
  }
  return { operation: 'unknown', flavour: lib ? 'libpod' : 'unknown', ...(version ? { version } : {}) };
}
