import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received { at: number; headers: http.IncomingHttpHeaders; body: string; status: number; path: string }

export interface WebhookReceiver {
  url: string;
  /** Every request, including the ones answered with an error. */
  requests: Received[];
  /** Requests answered 2xx. */
  accepted(): Received[];
  /** Status to answer with from now on (200 normally). */
  setStatus(status: number): void;
  /** Milliseconds to wait before answering. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** A real HTTP server that records what it receives and answers with a status the test controls. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: Received[] = [];
  let status = 200;
  let delay = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => setTimeout(() => {
      const answer = status;
      requests.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: answer, path: req.url ?? '' });
      res.statusCode = answer;
      res.end(answer < 300 ? 'ok' : 'unavailable');
    }, delay));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    accepted: () => requests.filter((r) => r.status < 300),
    setStatus: (s) => { status = s; },
    setDelay: (ms) => { delay = ms; },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
