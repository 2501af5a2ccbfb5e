import fs from 'node:fs';
import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../../../schemas/config.ts';
import type { Notification } from '../../../schemas/notification.ts';
import { DeliveryError, type Channel } from './channel.ts';
import { renderHtml, renderText, subject } from './format.ts';

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EGREETING']);

/**
 * Email through an SMTP server (nodemailer): STARTTLS required, implicit TLS or, for a local
 * relay only, plaintext. Plain-text and HTML parts; the Message-ID is the notification id, so a
 * redelivered mail is recognisable as the same message.
 */
export function emailChannel(name: string, smtp: SmtpConfig, to: readonly string[], from?: string): Channel {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port ?? (smtp.security === 'tls' ? 465 : smtp.security === 'starttls' ? 587 : 25),
    secure: smtp.security === 'tls',
    requireTLS: smtp.security === 'starttls',
    ignoreTLS: smtp.security === 'none',
    ...(smtp.username ? { auth: { user: smtp.username, pass: smtp.password ?? '' } } : {}),
    tls: { rejectUnauthorized: smtp.reject_unauthorized, ...(smtp.ca_file ? { ca: fs.readFileSync(smtp.ca_file) } : {}) },
    connectionTimeout: smtp.timeout_ms,
    greetingTimeout: smtp.timeout_ms,
    socketTimeout: smtp.timeout_ms,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    name,
    type: 'email',
    async send(n: Notification, attempt: number) {
      try {
        await transport.sendMail({
          from: from ?? smtp.from,
          to: [...to],
          subject: subject(n),
          text: renderText(n),
          html: renderHtml(n),
          messageId: `<${n.id}@podwatch>`,
          headers: { 'X-Podwatch-Notification-Id': n.id, 'X-Podwatch-Delivery-Attempt': String(attempt), 'X-Podwatch-Severity': n.severity },
        });
      } catch (err) {
        const e = err as { code?: string; responseCode?: number; message?: string };
        // 4xx replies and connection trouble pass; a 5xx reply (bad recipient, policy) will not.
        const retriable = e.responseCode === undefined ? TRANSIENT_CODES.has(e.code ?? '') || e.code === undefined : e.responseCode < 500 || e.code === 'EAUTH';
        throw new DeliveryError(`smtp ${smtp.host}: ${e.responseCode ?? e.code ?? ''} ${e.message ?? String(err)}`.trim(), retriable, err);
      }
    },
    close: () => transport.close(),
  };
}
