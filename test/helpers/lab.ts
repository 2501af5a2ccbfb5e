import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const lab = fileURLToPath(new URL('../lab/', import.meta.url));

export interface Lab { dir: string; pki: string; port: number; logs: string; env: Record<string, string>; stop: () => void }

/** A real Podman API service behind a real nginx with the reference mTLS configuration. */
export function startLab(port: number, opts: { listenAll?: boolean } = {}): Lab {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwatch-lab-'));
  const pki = path.join(dir, 'pki');
  execFileSync('bash', [`${lab}pki.sh`, pki]);
  const envLine = execFileSync('bash', [`${lab}podman.sh`, 'start', path.join(dir, 'podman'), 'info'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  const env = Object.fromEntries(envLine.split(' ').map((kv) => kv.split('=') as [string, string]));
  execFileSync('podman', ['create', '--name', 'web', 'localhost/test-busybox', 'sleep', '600'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  execFileSync('podman', ['start', 'web'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  execFileSync('bash', [`${lab}nginx.sh`, 'start', path.join(dir, 'nginx'), pki, path.join(dir, 'podman', 'podman.sock'), String(port)], { env: { ...process.env, LISTEN: opts.listenAll ? '0.0.0.0' : '127.0.0.1' } });
  return {
    dir, pki, port, env, logs: path.join(dir, 'nginx', 'logs'),
    stop: () => {
      spawnSync('bash', [`${lab}nginx.sh`, 'stop', path.join(dir, 'nginx')]);
      spawnSync('bash', [`${lab}podman.sh`, 'stop', path.join(dir, 'podman')], { env: { ...process.env, ...env } });
    },
  };
}

/** curl against the lab's nginx; returns the HTTP status (000 when the handshake failed). */
export function curl(l: Lab, urlPath: string, opts: { cert?: string; method?: string; body?: string; from?: string } = {}): string {
  const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '30', '--cacert', `${l.pki}/server-ca.crt`];
  if (opts.cert) args.push('--cert', `${l.pki}/${opts.cert}.crt`, '--key', `${l.pki}/${opts.cert}.key`);
  if (opts.method) args.push('-X', opts.method);
  if (opts.body) args.push('-H', 'Content-Type: application/json', '-d', opts.body);
  if (opts.from) args.push('--interface', opts.from);
  args.push(`https://localhost:${l.port}${urlPath}`);
  return spawnSync('curl', args, { encoding: 'utf8' }).stdout;
}
