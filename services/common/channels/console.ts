import type { Notification } from '../../../schemas/notification.ts';
import type { Channel } from './channel.ts';
import { oneLine } from './format.ts';

/** Standard output, one line per notification: always there, needs nothing. */
export function consoleChannel(name = 'console', out: NodeJS.WritableStream = process.stdout): Channel {
  return {
    name,
    type: 'console',
    async send(n: Notification) {
      const count = n.group.alerts > 1 ? ` [${n.kind}: ${n.group.alerts} alerts]` : '';
      out.write(`[${n.severity.toUpperCase()}] ${n['@timestamp']} ${oneLine(n.rule.id)}: ${oneLine(n.summary)}${count}\n`);
    },
  };
}
