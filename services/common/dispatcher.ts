import type { AlerterConfig } from '../../schemas/config.ts';
import type { DeadLetter } from '../../schemas/dead-letter.ts';
import type { DeliveryTask, Notification } from '../../schemas/notification.ts';
import { errorMessage } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { DeliveryError, notificationId, type Channel } from './channels/channel.ts';

export type Outcome =
  | { channel: string; status: 'sent' }
  | { channel: string; status: 'retry'; task: DeliveryTask }
  | { channel: string; status: 'dead'; task: DeliveryTask };

interface Health { lastOk?: number; lastError?: string; failingSince?: number; openUntil?: number }

/**
 * Delivers a notification to channels, one attempt each. A failure becomes a task for the retry
 * queue (exponential backoff with jitter) until `give_up_ms` after the first failure, then a dead
 * task. Right after a failure a channel is not tried again for `initial_ms`: new notifications are
 * parked at once instead of each waiting for the same timeout.
 */
export class Dispatcher {
  readonly health = new Map<string, Health>();
  private readonly counter;
  private readonly lastUnhealthy = new Map<string, number>();

  constructor(
    readonly channels: ReadonlyMap<string, Channel>,
    private readonly retry: AlerterConfig['retry'],
    private readonly logger: Logger,
    metrics: Metrics,
    private readonly random: () => number = Math.random,
  ) {
    this.counter = metrics.counter('podwatch_alerter_notifications_total', 'Delivery attempts by channel and outcome (sent, retried, failed, dead_lettered)', ['channel', 'outcome']);
    for (const name of channels.keys()) this.health.set(name, {});
  }

  backoffMs(attempt: number): number {
    const base = Math.min(this.retry.max_ms, this.retry.initial_ms * 2 ** (attempt - 1));
    return Math.round(base / 2 + (base / 2) * this.random());
  }

  async deliver(n: Notification, channelNames: readonly string[], nowMs = Date.now()): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const name of channelNames) out.push(await this.attempt({ notification: n, channel: name, attempt: 1 }, nowMs));
    return out;
  }

  /** One attempt of a (possibly parked) delivery. */
  async attempt(t: { notification: Notification; channel: string; attempt: number; first_failed_at?: string }, nowMs = Date.now()): Promise<Outcome> {
    const channel = this.channels.get(t.channel);
    const h = this.health.get(t.channel) ?? {};
    let error: DeliveryError;
    if (!channel) {
      error = new DeliveryError(`no channel named ${t.channel} in this configuration`, false);
    } else if (t.attempt === 1 && h.openUntil !== undefined && nowMs < h.openUntil) {
      error = new DeliveryError(`not tried: ${t.channel} failed ${nowMs - (h.failingSince ?? nowMs)} ms ago (${h.lastError})`, true);
    } else {
      try {
        await channel.send(t.notification, t.attempt);
        if (h.failingSince !== undefined) this.logger.info({ channel: t.channel, failedForMs: nowMs - h.failingSince }, 'channel delivers again');
        this.health.set(t.channel, { lastOk: Date.now() });
        this.counter.inc({ channel: t.channel, outcome: 'sent' });
        return { channel: t.channel, status: 'sent' };
      } catch (err) {
        error = err instanceof DeliveryError ? err : new DeliveryError(errorMessage(err), true, err);
        if (h.failingSince === undefined) this.logger.warn({ channel: t.channel, err: error.message }, 'channel delivery failed; parking for retry');
        this.health.set(t.channel, { ...h, lastError: error.message, failingSince: h.failingSince ?? nowMs, openUntil: Date.now() + this.retry.initial_ms });
      }
    }
    const firstFailed = t.first_failed_at ?? new Date(nowMs).toISOString();
    const task: DeliveryTask = {
      notification: t.notification, channel: t.channel, attempt: t.attempt, first_failed_at: firstFailed,
      next_at: new Date(nowMs + this.backoffMs(t.attempt)).toISOString(), last_error: error.message,
    };
    if (!error.retriable || nowMs - Date.parse(firstFailed) >= this.retry.give_up_ms) {
      this.counter.inc({ channel: t.channel, outcome: 'dead_lettered' });
      this.counter.inc({ channel: t.channel, outcome: 'failed' });
      return { channel: t.channel, status: 'dead', task };
    }
    this.counter.inc({ channel: t.channel, outcome: t.attempt === 1 ? 'failed' : 'retried' });
    return { channel: t.channel, status: 'retry', task };
  }

  /**
   * The `channel-unhealthy` notice for a channel that gave up, to send to the others; at most one
   * per channel per `window_ms`, with an id stable within that window.
   */
  unhealthyNotice(dead: DeliveryTask, windowMs: number, nowMs = Date.now()): { notification: Notification; channels: string[] } | undefined {
    const last = this.lastUnhealthy.get(dead.channel);
    if (last !== undefined && nowMs - last < windowMs) return undefined;
    this.lastUnhealthy.set(dead.channel, nowMs);
    const at = new Date(nowMs).toISOString();
    const n = dead.notification;
    const summary = `Channel ${dead.channel} is not delivering: gave up on notification ${n.id} after ${dead.attempt} attempts since ${dead.first_failed_at} (${dead.last_error})`;
    return {
      channels: [...this.channels.keys()].filter((c) => c !== dead.channel),
      notification: {
        version: 1, id: notificationId('channel-unhealthy', dead.channel, String(Math.floor(nowMs / windowMs))), kind: 'channel-unhealthy',
        '@timestamp': at, severity: 'high', title: 'Podwatch alert channel unhealthy', summary,
        rule: { id: 'podwatch-channel-unhealthy', name: 'Alert channel unhealthy' },
        entity: { type: 'endpoint', value: dead.channel },
        group: { key: `channel-unhealthy\u001f${dead.channel}`, alerts: 1, events: 0, since_last: 1, first_seen: dead.first_failed_at, last_seen: at },
      },
    };
  }
}

/** The dead letter for a delivery that was given up: the reason, and the task whole. */
export function deadLetterFor(task: DeliveryTask): DeadLetter {
  return {
    '@timestamp': new Date().toISOString(), stage: 'alerter', component: task.channel,
    reason: `delivery to ${task.channel} failed ${task.attempt} times since ${task.first_failed_at}: ${task.last_error}`,
    issues: [], original: JSON.stringify(task), original_encoding: 'utf8',
  };
}
