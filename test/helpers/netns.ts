import { execFileSync, spawnSync } from 'node:child_process';

export interface Netns { name: string; address: string; gateway: string; exec(argv: string[]): { status: number | null; stdout: string; stderr: string }; remove(): void }

/**
 * A network namespace joined to the host by a veth pair: requests made inside it really come
 * from `address` (e.g. 198.51.100.7), and the host answers on `gateway` (the peer's address).
 */
export function createNetns(tag: string, address: string, gateway: string, prefix = 24): Netns {
  const name = `pw-${tag}`;
  const host = `pwh-${tag}`.slice(0, 15);
  const peer = `pwn-${tag}`.slice(0, 15);
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  spawnSync('ip', ['netns', 'del', name]);
  spawnSync('ip', ['link', 'del', host]);
  ip('netns', 'add', name);
  ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
  ip('link', 'set', peer, 'netns', name);
  ip('addr', 'add', `${gateway}/${prefix}`, 'dev', host);
  ip('link', 'set', host, 'up');
  ip('-n', name, 'addr', 'add', `${address}/${prefix}`, 'dev', peer);
  ip('-n', name, 'link', 'set', peer, 'up');
  ip('-n', name, 'link', 'set', 'lo', 'up');
  return {
    name, address, gateway,
    exec: (argv) => {
      const r = spawnSync('ip', ['netns', 'exec', name, ...argv], { encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    remove: () => { spawnSync('ip', ['link', 'del', host]); spawnSync('ip', ['netns', 'del', name]); },
  };
}
