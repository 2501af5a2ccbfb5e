import { createHash } from 'node:crypto';
import type { Notification } from '../../../schemas/notification.ts';
import { PodwatchError } from '../errors.ts';

/** A place notifications go. `send` resolves once the receiver accepted it, or throws a DeliveryError. */
export interface Channel {
  readonly name: string;
  readonly type: string;
  send(n: Notification, attempt: number): Promise<void>;
  close?(): void;
}

/** A failed delivery; `retriable` is false when trying again cannot help (a 4xx, a rejected recipient). */
export class DeliveryError extends PodwatchError {
  constructor(message: string, retriable: boolean, cause?: unknown) {
    super(retriable ? 'E_DELIVERY_RETRY' : 'E_DELIVERY_PERMANENT', message, { retriable, cause });
    this.name = 'DeliveryError';
  }
}

/** A notification id: 32 hex characters derived from what makes the notification unique. */
export function notificationId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}
