import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../services/common/logger.ts';

/** A logger that writes JSON lines to memory, so tests can assert on what was logged. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: () => Record<string, any>[] } {
  const chunks: string[] = [];
  const dest = new Writable({ write(chunk, _enc, cb) { chunks.push(chunk.toString()); cb(); } });
  const logger = createLogger('test', level, dest as any);
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}
