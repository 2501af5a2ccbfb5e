import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { ChannelConfig } from '../../../schemas/config.ts';
import type { Notification } from '../../../schemas/notification.ts';
import { DeliveryError, type Channel } from './channel.ts';
import { escapeSlack, escapeTeams, evidence, facts, oneLine } from './format.ts';

type WebhookConfig = Extract<ChannelConfig, { type: 'webhook' }>;

/** `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<body>`): what `X-Podwatch-Signature` carries. */
export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Slack incoming-webhook message: fallback text plus blocks, text escaped the Slack way. */
export function slackPayload(n: Notification): unknown {
  const fields = facts(n).slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${escapeSlack(k)}*\n${escapeSlack(v)}` }));
  const ev = evidence(n);
  return {
    text: escapeSlack(`[${n.severity.toUpperCase()}] ${n.summary}`),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: oneLine(`${n.severity.toUpperCase()}: ${n.title}`, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(n.summary) } },
      { type: 'section', fields },
      ...(ev.length ? [{ type: 'section', text: { type: 'mrkdwn', text: ev.map((l) => `• ${escapeSlack(l)}`).join('\n') } }] : []),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Podwatch ${n.kind} · ${n.id}` }] },
    ],
  };
}

/** Microsoft Teams (Workflows webhook): a message with one Adaptive Card. */
export function teamsPayload(n: Notification): unknown {
  return {
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        body: [
          { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: escapeTeams(`${n.severity.toUpperCase()}: ${n.title}`) },
          { type: 'TextBlock', wrap: true, text: escapeTeams(n.summary) },
          { type: 'FactSet', facts: facts(n).map(([title, value]) => ({ title: escapeTeams(title), value: escapeTeams(value) })) },
          ...evidence(n).map((l) => ({ type: 'TextBlock', wrap: true, fontType: 'Monospace', size: 'Small', text: escapeTeams(l) })),
        ],
      },
    }],
  };
}

/** POSTs a body; 2xx is accepted, 408/425/429/5xx and network errors are retriable, other answers are not. */
function post(url: URL, body: string, headers: Record<string, string>, timeoutMs: number, ca?: Buffer): Promise<void> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ...(ca ? { ca } : {}), timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => {
        const s = res.statusCode ?? 0;
        if (s >= 200 && s < 300) resolve();
        else reject(new DeliveryError(`HTTP ${s}`, s === 408 || s === 425 || s === 429 || s >= 500));
      });
      res.on('error', (err) => reject(new DeliveryError(err.message, true, err)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof DeliveryError ? err : new DeliveryError(err.message, true, err)));
    req.end(body);
  });
}

/**
 * A JSON POST. Every request carries `Idempotency-Key` (the notification id), the attempt number
 * and, with a secret, `X-Podwatch-Timestamp` and `X-Podwatch-Signature`.
 */
export function webhookChannel(cfg: WebhookConfig, version = '0.1.0'): Channel {
  const url = new URL(cfg.url);
  const ca = cfg.ca_file ? fs.readFileSync(cfg.ca_file) : undefined;
  return {
    name: cfg.name,
    type: `webhook/${cfg.preset}`,
    async send(n: Notification, attempt: number) {
      const payload = cfg.preset === 'slack' ? slackPayload(n) : cfg.preset === 'teams' ? teamsPayload(n) : n;
      const body = JSON.stringify(payload);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        ...cfg.headers,
        'content-type': 'application/json',
        'user-agent': `Podwatch/${version}`,
        'idempotency-key': n.id,
        'x-podwatch-notification-id': n.id,
        'x-podwatch-delivery-attempt': String(attempt),
        'x-podwatch-timestamp': timestamp,
      };
      if (cfg.secret) headers['x-podwatch-signature'] = sign(cfg.secret, timestamp, body);
      await post(url, body, headers, cfg.timeout_ms, ca);
    },
  };
}
