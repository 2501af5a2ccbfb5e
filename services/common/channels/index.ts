import type { AlerterConfig } from '../../../schemas/config.ts';
import type { Channel } from './channel.ts';
import { consoleChannel } from './console.ts';
import { emailChannel } from './email.ts';
import { webhookChannel } from './webhook.ts';

/** Every configured channel by name, plus `console`. */
export function createChannels(cfg: AlerterConfig, out?: NodeJS.WritableStream): Map<string, Channel> {
  const channels = new Map<string, Channel>([['console', consoleChannel('console', out)]]);
  for (const c of cfg.channels) {
    switch (c.type) {
      case 'console': channels.set(c.name, consoleChannel(c.name, out)); break;
      case 'email': channels.set(c.name, emailChannel(c.name, cfg.smtp!, c.to, c.from)); break;
      case 'webhook': channels.set(c.name, webhookChannel(c)); break;
    }
  }
  return channels;
}
