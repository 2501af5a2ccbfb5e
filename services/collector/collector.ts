import type { Config } from '../../schemas/config.ts';
import type { Logger } from '../common/logger.ts';
import type { Metrics } from '../common/metrics.ts';
import type { Sink } from '../common/sink.ts';
import { FileSource } from './file-source.ts';
import { JournaldSource } from './journald-source.ts';

type Source = FileSource | JournaldSource;

/** The configured sources, feeding one sink. */
export class Collector {
  private readonly sources: Source[];

  constructor(cfg: Readonly<Config>, sink: Sink, metrics: Metrics, logger: Logger) {
    const host = cfg.host.name!;
    this.sources = cfg.collector.sources.map((s) => s.type === 'file'
      ? new FileSource(s, cfg.collector, host, sink, metrics, logger)
      : new JournaldSource(s, cfg.collector, host, sink, metrics, logger));
  }

  async start(): Promise<void> {
    for (const s of this.sources) await s.start();
  }

  /** Stops reading; records already handed to the sink are still acknowledged. */
  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.stop()));
  }

  /** Records every acknowledgement received so far in the checkpoints, synchronously. */
  flushCheckpoints(): void {
    for (const s of this.sources) s.flushCheckpoint();
  }

  /** Writes the final checkpoints; call after the sink has flushed. */
  close(): void {
    for (const s of this.sources) s.close();
  }
}
