import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { waitUntil } from './process.ts';

const SOCKET = '/run/systemd/journal/socket';

/**
 * Makes sure a real systemd-journald runs (systemd is not PID 1 here, so nothing else starts
 * one); returns a function that stops it again if this call started it.
 */
export async function ensureJournald(): Promise<() => void> {
  if (fs.existsSync(SOCKET) && journaldRunning()) return () => undefined;
  const child = spawn('/lib/systemd/systemd-journald', [], { stdio: 'ignore', detached: true });
  child.unref();
  await waitUntil(() => fs.existsSync(SOCKET), 10_000, 'journald socket');
  return () => { try { process.kill(child.pid!); } catch { /* already gone */ } };
}

function journaldRunning(): boolean {
  try {
    execFileSync('pgrep', ['-x', 'systemd-journal']);
    return true;
  } catch {
    return false;
  }
}

/** Writes one real journal entry through journald's native protocol (systemd-cat). */
export function journalWrite(tag: string, message: string): void {
  execFileSync('systemd-cat', ['-t', tag], { input: `${message}\n` });
}

/** Writes export-format entries into a journal file with systemd-journal-remote (no daemon needed). */
export function writeJournalFile(file: string, entries: Array<Record<string, string>>): void {
  const boot = 'f'.repeat(32);
  const base = Date.now() * 1000;
  const text = entries.map((e, i) => Object.entries({
    __REALTIME_TIMESTAMP: String(base + i), __MONOTONIC_TIMESTAMP: String(1000 + i), _BOOT_ID: boot, ...e,
  }).map(([k, v]) => `${k}=${v}`).join('\n')).join('\n\n') + '\n\n';
  execFileSync('/lib/systemd/systemd-journal-remote', ['-o', file, '-'], { input: text, stdio: ['pipe', 'ignore', 'pipe'] });
}
