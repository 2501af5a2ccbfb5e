import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { Alert } from '../../schemas/alert.ts';
import type { PostureEndpoint } from '../../schemas/config.ts';
import { jobAlert } from './findings.ts';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
const VERSIONS: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
/** Suites a hardened API should refuse: no forward secrecy, 3DES, RC4, export, NULL. */
const WEAK_CIPHERS = ['AES128-SHA', 'AES256-SHA', 'AES128-SHA256', 'DES-CBC3-SHA', 'RC4-SHA', 'NULL-SHA', 'EXP-RC4-MD5'];

/** What an attacker sees at one endpoint. */
export interface PostureObservation {
  endpoint: string;
  address: string;
  reachable: boolean;
  /** Ports that answered a plain HTTP request with a non-error status. */
  plaintext_answered: number[];
  tls_versions: Partial<Record<TlsVersion, { accepted: boolean; cipher?: string; error?: string }>>;
  weak_ciphers_accepted: string[];
  /** Whether the API answered a request made without a client certificate, and with what status. */
  answered_without_client_cert: boolean;
  status_without_client_cert?: number;
  certificate?: { subject: string; issuer: string; valid_to: string; days_left: number; chain: string[]; trusted?: boolean; trust_error?: string };
  error?: string;
}

export interface PostureFinding { check: 'unreachable' | 'plaintext' | 'tls_version' | 'weak_ciphers' | 'client_cert' | 'certificate_expiry' | 'certificate_chain'; summary: string; severity: 'medium' | 'high' | 'critical' }

// Old protocol versions need the lowest OpenSSL security level on our side, or we could not even ask.
const LEGACY_CIPHERS = 'ALL:@SECLEVEL=0';

function handshake(ep: PostureEndpoint, opts: tls.ConnectionOptions, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: ep.host, port: ep.port, servername: ep.servername ?? (net.isIP(ep.host) ? undefined : ep.host), rejectUnauthorized: false, ...opts });
    const timer = setTimeout(() => s.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    s.once('secureConnect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

/** Sends one HTTP/1.1 request on a connected socket and returns the status code (0 when none came back). */
function request(sock: net.Socket, host: string, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (status: number) => { clearTimeout(timer); sock.destroy(); resolve(status); };
    const timer = setTimeout(() => done(0), timeoutMs);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      if (m) done(Number(m[1]));
      else if (buf.length > 64) done(0);
    });
    sock.on('error', () => done(0));
    sock.on('end', () => done(0));
    sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: podwatch-posture\r\nConnection: close\r\n\r\n`);
  });
}

function plainConnect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => s.destroy(new Error('connect timeout')), timeoutMs);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

const cn = (name: tls.PeerCertificate['subject'] | undefined) => [name?.CN ?? ''].flat().join(',');

/** Connects from where Podwatch runs and records what the endpoint accepts. */
export async function observe(ep: PostureEndpoint, timeoutMs: number, now = Date.now()): Promise<PostureObservation> {
  const o: PostureObservation = {
    endpoint: ep.name, address: `${ep.host}:${ep.port}`, reachable: false, plaintext_answered: [], tls_versions: {},
    weak_ciphers_accepted: [], answered_without_client_cert: false,
  };
  for (const port of ep.plaintext_ports ?? [ep.port]) {
    try {
      const status = await request(await plainConnect(ep.host, port, timeoutMs), ep.host, ep.path, timeoutMs);
      // nginx answers 400 "plain HTTP request was sent to HTTPS port": refused, not served.
      if (status > 0 && status < 400) o.plaintext_answered.push(port);
    } catch { /* closed port: nothing answers */ }
  }
  for (const v of VERSIONS) {
    try {
      const s = await handshake(ep, { minVersion: v, maxVersion: v, ...(v === 'TLSv1' || v === 'TLSv1.1' ? { ciphers: LEGACY_CIPHERS } : {}) }, timeoutMs);
      o.tls_versions[v] = { accepted: true, cipher: s.getCipher().name };
      o.reachable = true;
      s.destroy();
    } catch (err) {
      o.tls_versions[v] = { accepted: false, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  }
  for (const c of WEAK_CIPHERS) {
    try {
      const s = await handshake(ep, { maxVersion: 'TLSv1.2', ciphers: `${c}:@SECLEVEL=0` }, timeoutMs);
      o.weak_ciphers_accepted.push(s.getCipher().name);
      s.destroy();
    } catch { /* refused: good */ }
  }
  try {
    const ca = ep.ca_file ? fs.readFileSync(ep.ca_file) : undefined;
    const s = await handshake(ep, ca ? { ca } : {}, timeoutMs);
    o.reachable = true;
    const peer = s.getPeerCertificate(true);
    const chain: string[] = [];
    for (let c: tls.DetailedPeerCertificate | undefined = peer; c && c.subject && chain.length < 10; c = c.issuerCertificate === c ? undefined : c.issuerCertificate) {
      chain.push(cn(c.subject));
    }
    if (peer.valid_to) {
      const validTo = new Date(peer.valid_to);
      o.certificate = {
        subject: cn(peer.subject), issuer: cn(peer.issuer), valid_to: validTo.toISOString(),
        days_left: Math.floor((validTo.getTime() - now) / 86_400_000), chain,
        ...(ca ? { trusted: s.authorized, ...(s.authorized ? {} : { trust_error: String(s.authorizationError) }) } : {}),
      };
    }
    const status = await request(s, ep.host, ep.path, timeoutMs);
    o.status_without_client_cert = status;
    o.answered_without_client_cert = status > 0 && status < 400;
  } catch (err) {
    o.error = (err as Error).message;
  }
  return o;
}

const RANK: Record<TlsVersion, number> = { TLSv1: 0, 'TLSv1.1': 1, 'TLSv1.2': 2, 'TLSv1.3': 3 };

/** The regressions of an observation against the endpoint's expectation. */
export function assess(ep: PostureEndpoint, o: PostureObservation): PostureFinding[] {
  const f: PostureFinding[] = [];
  const e = ep.expect;
  if (!o.reachable && !o.plaintext_answered.length) return [{ check: 'unreachable', severity: 'medium', summary: `${ep.name} (${o.address}) did not complete a TLS handshake: ${o.error ?? 'refused'}` }];
  if (!e.plaintext && o.plaintext_answered.length) f.push({ check: 'plaintext', severity: 'critical', summary: `${ep.name} answers plain HTTP without TLS on port ${o.plaintext_answered.join(', ')}` });
  const old = VERSIONS.filter((v) => o.tls_versions[v]?.accepted && RANK[v] < RANK[e.min_tls_version]);
  if (old.length) f.push({ check: 'tls_version', severity: 'high', summary: `${ep.name} accepts ${old.join(', ')} (expected ${e.min_tls_version} or later)` });
  if (!e.weak_ciphers && o.weak_ciphers_accepted.length) f.push({ check: 'weak_ciphers', severity: 'medium', summary: `${ep.name} accepts weak cipher suites: ${o.weak_ciphers_accepted.join(', ')}` });
  if (e.client_cert_required && o.answered_without_client_cert) f.push({ check: 'client_cert', severity: 'critical', summary: `${ep.name} answered ${ep.path} with ${o.status_without_client_cert} to a client without a certificate` });
  if (o.certificate && o.certificate.days_left < e.cert_min_days) {
    f.push({ check: 'certificate_expiry', severity: o.certificate.days_left < 0 ? 'critical' : 'high', summary: `${ep.name} server certificate ${o.certificate.subject} expires ${o.certificate.valid_to} (${o.certificate.days_left} days left; expected at least ${e.cert_min_days})` });
  }
  if (o.certificate?.trusted === false) f.push({ check: 'certificate_chain', severity: 'high', summary: `${ep.name} server certificate is not issued by the configured CA: ${o.certificate.trust_error}` });
  return f;
}

/** One posture run over every endpoint: its findings, and one `api-posture` alert per endpoint that has any. */
export async function checkEndpoints(endpoints: readonly PostureEndpoint[], timeoutMs: number, runId: string): Promise<{ summary: string; findings: unknown[]; alerts: Alert[] }> {
  const findings: unknown[] = [];
  const alerts: Alert[] = [];
  for (const ep of endpoints) {
    const o = await observe(ep, timeoutMs);
    const f = assess(ep, o);
    findings.push(...f.map((x) => ({ endpoint: ep.name, ...x, observation: o })));
    if (!f.length) continue;
    const worst = f.some((x) => x.severity === 'critical') ? 'critical' : f.some((x) => x.severity === 'high') ? 'high' : 'medium';
    alerts.push(jobAlert({ rule: 'api-posture', entity: { type: 'endpoint', value: ep.name }, atMs: Date.now(), runId, occasion: runId, severity: worst, summary: f.map((x) => x.summary).join('; ') }));
  }
  return { summary: `${endpoints.length} endpoints checked, ${findings.length} findings`, findings, alerts };
}
