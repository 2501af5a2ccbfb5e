import fs from 'node:fs';
import YAML from 'yaml';
import type { Config } from '../../schemas/config.ts';
import type { Notification } from '../../schemas/notification.ts';
import { UserError } from '../common/errors.ts';
import { createChannels } from '../common/channels/index.ts';
import { notificationId } from '../common/channels/channel.ts';
import { readMutesFile } from '../alerter/mutes.ts';

/** `podwatch alert test --channel NAME`: one test notification, sent now; exit 1 if it was not accepted. */
export async function alertTestCommand(cfg: Readonly<Config>, channelName: string | undefined): Promise<void> {
  const channels = createChannels(cfg.alerter);
  if (!channelName) throw new UserError(`alert test needs --channel NAME (configured: ${[...channels.keys()].join(', ')})`);
  const channel = channels.get(channelName);
  if (!channel) throw new UserError(`no channel named ${channelName} (configured: ${[...channels.keys()].join(', ')})`);
  const now = new Date().toISOString();
  const n: Notification = {
    version: 1, id: notificationId('test', channelName, now), kind: 'test', '@timestamp': now, severity: 'low',
    title: 'Podwatch test notification', summary: `Test notification from Podwatch on ${cfg.host.name} to channel ${channelName}`,
    rule: { id: 'podwatch-test', name: 'Test notification' }, entity: { type: 'endpoint', value: channelName },
    group: { key: 'test', alerts: 1, events: 0, since_last: 1, first_seen: now, last_seen: now },
  };
  try {
    await channel.send(n, 1);
    process.stdout.write(`sent test notification ${n.id} to ${channelName} (${channel.type})\n`);
  } catch (err) {
    process.stderr.write(`podwatch: ${channelName} (${channel.type}) did not accept the test notification: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    for (const c of channels.values()) c.close?.();
  }
}

const DURATION = /^(\d+)([mhd])$/;

/** `podwatch alert mute`: appends a mute with expiry, author and reason to `alerter.mutes_file`. */
export function alertMuteCommand(cfg: Readonly<Config>, o: { rule?: string; entity?: string; for?: string; by?: string; reason?: string }): void {
  const file = cfg.alerter.mutes_file;
  if (!file) throw new UserError('alert mute needs alerter.mutes_file in the configuration');
  if (!o.rule && !o.entity) throw new UserError('alert mute needs --rule ID and/or --entity VALUE');
  if (!o.by || !o.reason) throw new UserError('alert mute needs --by WHO and --reason WHY');
  const d = DURATION.exec(o.for ?? '');
  if (!d) throw new UserError('alert mute needs --for N(m|h|d), e.g. --for 2h');
  const until = new Date(Date.now() + Number(d[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 'm' | 'h' | 'd']).toISOString();
  const mutes = readMutesFile(file);
  mutes.push({ match: { ...(o.rule ? { rule: [o.rule] } : {}), ...(o.entity ? { entity: [o.entity] } : {}) }, until, by: o.by, reason: o.reason });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, YAML.stringify(mutes));
  fs.renameSync(tmp, file);
  process.stdout.write(`muted until ${until}; ${mutes.length} mute(s) in ${file}\n`);
}
