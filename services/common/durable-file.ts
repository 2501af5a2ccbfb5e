import fs from 'node:fs';
import path from 'node:path';

/**
 * Replaces `file` with `text` atomically and durably: a temporary file is written and fsynced,
 * renamed over the old one, and the directory fsynced, so a crash leaves either the old or the
 * new content, never a torn one.
 */
export function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try { fs.fsyncSync(dirFd); } finally { fs.closeSync(dirFd); }
}
