import type { Logger } from './logger.ts';

/**
 * Runs `drain` once on SIGTERM or SIGINT (flush, checkpoint, close), then exits 0;
 * exits 1 if draining fails or takes longer than `timeoutMs`. Call it before announcing that the
 * service started: until a listener exists, SIGTERM's default action kills the process outright.
 */
export function onShutdown(logger: Logger, drain: () => Promise<void>, timeoutMs = 30_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting with work possibly unflushed');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    drain().then(
      () => { logger.info('stopped'); logger.flush?.(); process.exit(0); },
      (err: unknown) => { logger.error({ err }, 'shutdown failed'); process.exit(1); },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
