import type { Notification } from '../../../schemas/notification.ts';
import { PodwatchError } from '../../common/errors.ts';

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
