import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/podwatch.js', import.meta.url));

export interface Proc {
  child: ChildProcess;
  /** Everything the process wrote to stderr and stdout so far. */
  output(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends a signal and waits for the exit; resolves with the exit code (or signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  rssKiB(): number;
  /** Peak resident set size so far (VmHWM), shared file-backed pages (the node binary) included. */
  peakRssKiB(): number;
  /** Peak anonymous resident memory (RssAnon, sampled every 250 ms): the process's own memory. */
  peakAnonKiB(): number;
}

function statusKiB(pid: number | undefined, field: string): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  } catch { return 0; }
}

/** Runs `podwatch ARGS` as its own process, the way an operator would. */
export function spawnPodwatch(args: string[], opts: { env?: Record<string, string>; wrapper?: string[]; cwd?: string; bin?: string; nodeArgs?: string[] } = {}): Proc {
  const argv = [...(opts.wrapper ?? []), process.execPath, ...(opts.nodeArgs ?? []), opts.bin ?? process.env.PODWATCH_TEST_BIN ?? BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
  let out = '';
  child.stdout!.on('data', (d) => { out += d.toString(); });
  child.stderr!.on('data', (d) => { out += d.toString(); });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  let peakAnon = 0;
  const sampler = setInterval(() => { peakAnon = Math.max(peakAnon, statusKiB(child.pid, 'RssAnon')); }, 250);
  sampler.unref();
  child.on('exit', () => clearInterval(sampler));
  return {
    child,
    output: () => out,
    async waitForOutput(re, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before ${re}:\n${out.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    rssKiB: () => statusKiB(child.pid, 'VmRSS'),
    peakRssKiB: () => statusKiB(child.pid, 'VmHWM'),
    peakAnonKiB: () => Math.max(peakAnon, statusKiB(child.pid, 'RssAnon')),
  };
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits for a service that must refuse its configuration at start: exit code 2, the expected
 * message, no stack trace, and the given secret nowhere in its output.
 */
export async function expectStartupRefusal(p: Proc, what: string, expected: RegExp, secret: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(() => p.child.exitCode !== null, timeoutMs, `${what}: the service gives up`);
  assert.equal(p.child.exitCode, 2, `${what}: exit code\n${p.output()}`);
  assert.match(p.output(), expected, what);
  assert.doesNotMatch(p.output(), /^\s+at /m, `${what}: no stack trace`);
  assert.ok(!p.output().includes(secret), `${what}: the secret is not in the output`);
}
