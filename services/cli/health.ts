import type { Config } from '../../schemas/config.ts';

const DEFAULT_PORTS = { collector: 9464, normalizer: 9465, detector: 9466, indexer: 9467, alerter: 9468, scheduler: 9469 } as const;

/**
 * `podwatch health`: the container HEALTHCHECK. Asks `/healthz` of every service port in the
 * configuration; healthy when one answers 200 and none answers 503.
 */
export async function healthCommand(cfg: Readonly<Config>): Promise<void> {
  const answers: string[] = [];
  let ok = false;
  let bad = false;
  for (const [name, port] of Object.entries(DEFAULT_PORTS) as Array<[keyof typeof DEFAULT_PORTS, number]>) {
    const http = cfg[name].http;
    const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${http.port || port}/healthz`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      answers.push(`${name} ${res.status} ${await res.text()}`);
      if (res.status === 200) ok = true; else bad = true;
    } catch { /* nothing listens there: that service does not run in this container */ }
  }
  if (ok && !bad) { process.stdout.write(`${answers.join('\n')}\n`); return; }
  process.stderr.write(answers.length ? `podwatch: unhealthy\n${answers.join('\n')}\n` : 'podwatch: no Podwatch service answers on its /healthz port\n');
  process.exitCode = 1;
}
