/**
 * Where a source hands its records: Kafka in distributed mode, the next stage in-process in
 * standalone mode. `onAck` runs once the record is durable downstream, in push order.
 */
export interface Sink {
  push(key: string, value: string, onAck: () => void): void;
  readonly hasCapacity: boolean;
  waitForCapacity(): Promise<void>;
}
