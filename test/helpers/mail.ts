import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser, type ParsedMail } from 'mailparser';

const SERVER = fileURLToPath(new URL('./smtp-sink-server.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

export interface SmtpSink {
  port: number;
  dir: string;
  /** Every message received so far, parsed, with the raw text. */
  messages(): Promise<Array<ParsedMail & { raw: string }>>;
  count(): number;
  stop(): Promise<void>;
}

/**
 * Starts the SMTP server as its own process; `port` reuses one (to bring a stopped server back),
 * `secure` makes it implicit TLS, `tls` gives it a certificate (else smtp-server's built-in one).
 */
export async function startSmtpSink(dir: string, opts: { user?: string; pass?: string; port?: number; secure?: boolean; tls?: { cert: string; key: string } } = {}): Promise<SmtpSink> {
  const child = spawn(TSX, [SERVER, dir, String(opts.port ?? 0)], {
    env: {
      ...process.env, SMTP_USER: opts.user ?? '', SMTP_PASS: opts.pass ?? '', SMTP_SECURE: opts.secure ? '1' : '',
      SMTP_CERT: opts.tls?.cert ?? '', SMTP_KEY: opts.tls?.key ?? '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`smtp sink exited with ${code}`)));
  });
  const files = () => fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
  return {
    port,
    dir,
    count: () => files().length,
    messages: () => Promise.all(files().map(async (f) => {
      const raw = fs.readFileSync(path.join(dir, f), 'utf8');
      return Object.assign(await simpleParser(raw), { raw });
    })),
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
