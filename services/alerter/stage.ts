import type { KafkaMessage } from 'kafkajs';
import { z } from 'zod';
import { Alert } from '../../schemas/alert.ts';
import type { Config } from '../../schemas/config.ts';
import { DeliveryTask, type Notification } from '../../schemas/notification.ts';
import { deadLetterOutput, type Output } from '../common/kafka-stage.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';
import { deadLetterFor, type Dispatcher, type Outcome } from '../common/dispatcher.ts';
import type { Grouper } from './grouping.ts';
import type { Mutes } from './mutes.ts';
import { activeMute, route } from './routing.ts';

interface Where { topic: string; partition: number; heartbeat: () => Promise<void> }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A message parsed as JSON and checked against `schema`, or its dead letter saying what is wrong. */
function parseOrDeadLetter<T>(m: KafkaMessage, schema: z.ZodType<T>, where: Where, dlq: string, reason: string): { value: T } | { dead: Output } {
  let parsed: unknown;
  try { parsed = JSON.parse(m.value?.toString() ?? ''); } catch { parsed = undefined; }
  const r = schema.safeParse(parsed);
  if (r.success) return { value: r.data };
  return { dead: deadLetterOutput(m, where, dlq, { stage: 'alerter', reason, issues: parsed === undefined ? ['not JSON'] : z.prettifyError(r.error).split('\n') }) };
}

/**
 * The alerter's work over Kafka. Per alert batch: group, route, try each channel once, and return
 * what must be durable before the offset moves: retry tasks, dead letters and the changed group
 * state (with the offset it covers); with `flush`, those of each notification are made durable
 * as soon as it went out. Runs one thing at a time, so sweeps and batches never interleave.
 */
export class AlerterStage {
  private chain: Promise<unknown> = Promise.resolve();
  readonly owned = new Set<number>();
  private readonly suppressed;

  constructor(
    private readonly cfg: Readonly<Config>,
    private readonly grouper: Grouper,
    private readonly dispatcher: Dispatcher,
    private readonly mutes: Mutes,
    private readonly logger: Logger,
    metrics: Metrics,
    /**
     * Makes outputs durable now (Kafka, acks=-1). Used after each notification that went out, so
     * the group state that records it (with the input offset it covers) is written before the
     * next delivery: a crash then repeats at most the delivery in flight, not the whole batch.
     */
    private readonly flush?: (out: Output[]) => Promise<void>,
  ) {
    this.suppressed = metrics.counter('podwatch_alerter_suppressed_total', 'Alerts not notified on their own (grouped, muted, replayed)', ['channel', 'reason']);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  handleAlerts(messages: KafkaMessage[], where: Where): Promise<Output[]> {
    return this.locked(async () => {
      const t = this.cfg.kafka.topics;
      const out: Output[] = [];
      const mutes = this.mutes.list();
      for (const m of messages) {
        const r = parseOrDeadLetter(m, Alert, where, t.dlq, 'not a valid alert');
        if ('dead' in r) { out.push(r.dead); continue; }
        const a = r.value;
        const channels = route(this.cfg.alerter, a);
        const mute = activeMute(mutes, a, Date.now());
        if (mute) {
          for (const c of channels) this.suppressed.inc({ channel: c, reason: 'muted' });
          continue;
        }
        const res = this.grouper.accept(a, Date.now(), String(where.partition), m.offset);
        if (res.grouped || res.replayed) for (const c of channels) this.suppressed.inc({ channel: c, reason: res.replayed ? 'replayed' : 'grouped' });
        for (const n of res.notifications) out.push(...await this.deliver(n, channels));
        if (res.notifications.length && this.flush) {
          out.push(...this.stateOutputs(where.partition));
          await this.flush(out.splice(0));
        }
        await where.heartbeat();
      }
      out.push(...this.stateOutputs(where.partition));
      return out;
    });
  }

  /** Parked deliveries: wait until due, try again, park again or give up. */
  handleRetries(messages: KafkaMessage[], where: Where): Promise<Output[]> {
    const t = this.cfg.kafka.topics;
    const out: Output[] = [];
    return (async () => {
      for (const m of messages) {
        const r = parseOrDeadLetter(m, DeliveryTask, where, t.dlq, 'not a valid delivery task');
        if ('dead' in r) { out.push(r.dead); continue; }
        const task = r.value;
        for (let wait = Date.parse(task.next_at) - Date.now(); wait > 0; wait = Date.parse(task.next_at) - Date.now()) {
          await sleep(Math.min(wait, 1000));
          await where.heartbeat();
        }
        const outcome = await this.dispatcher.attempt({ ...task, attempt: task.attempt + 1 });
        out.push(...await this.settle([outcome]));
      }
      return out;
    })();
  }

  /** Closes quiet groups of the partitions this worker owns; returns their summaries' outputs. */
  sweep(): Promise<Output[]> {
    return this.locked(async () => {
      const out: Output[] = [];
      const scopes = new Set([...this.owned].map(String));
      for (const n of this.grouper.sweep(Date.now(), scopes)) {
        if (!n.alert) continue;
        out.push(...await this.deliver(n, route(this.cfg.alerter, n.alert)));
      }
      for (const p of this.owned) out.push(...this.stateOutputs(p));
      return out;
    });
  }

  private async deliver(n: Notification, channels: readonly string[]): Promise<Output[]> {
    return this.settle(await this.dispatcher.deliver(n, channels));
  }

  /** Retry tasks and dead letters for the outcomes; a dead one also warns the other channels. */
  private async settle(outcomes: Outcome[]): Promise<Output[]> {
    const t = this.cfg.kafka.topics;
    const out: Output[] = [];
    for (const o of outcomes) {
      if (o.status === 'retry') out.push({ topic: t.retry, key: o.channel, value: JSON.stringify(o.task) });
      if (o.status !== 'dead') continue;
      this.logger.error({ channel: o.channel, notification: o.task.notification.id, attempts: o.task.attempt, err: o.task.last_error }, 'gave up delivering a notification; it is in the dead-letter topic');
      out.push({ topic: t.dlq, key: o.task.notification.id, value: JSON.stringify(deadLetterFor(o.task)) });
      const notice = this.dispatcher.unhealthyNotice(o.task, this.cfg.alerter.grouping.realert_ms);
      if (notice) out.push(...await this.settle(await this.dispatcher.deliver(notice.notification, notice.channels)));
    }
    return out;
  }

  /** Changelog records for the groups changed in one partition (tombstones for closed ones). */
  private stateOutputs(partition: number): Output[] {
    const out: Output[] = [];
    const prefix = `${partition}|`;
    for (const sk of this.grouper.dirty) {
      if (!sk.startsWith(prefix)) continue;
      const g = this.grouper.groups.get(sk);
      out.push({ topic: this.cfg.kafka.topics.alerter_state, key: sk, value: g ? JSON.stringify(g) : null, partition });
      this.grouper.dirty.delete(sk);
    }
    return out;
  }
}
