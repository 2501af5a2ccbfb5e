import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { AlerterConfig } from '../../schemas/config.ts';
import { ConfigError } from '../common/config.ts';
import type { Logger } from '../common/logger.ts';
import type { Mute } from './routing.ts';

const MuteList = AlerterConfig.shape.mutes;

/** Reads a mutes file: a YAML or JSON list of `{match, until, by, reason}`; a missing file is an empty list. */
export function readMutesFile(file: string): Mute[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`alerter.mutes_file: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  const r = MuteList.safeParse(YAML.parse(text) ?? []);
  if (!r.success) throw new ConfigError(`alerter.mutes_file ${file}:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** The configured mutes plus the file's, re-read when it changes; a broken edit keeps the last good list. */
export class Mutes {
  private fromFile: Mute[] = [];
  private mtime = 0;

  constructor(private readonly cfg: Pick<AlerterConfig, 'mutes' | 'mutes_file'>, private readonly logger: Logger) {
    if (cfg.mutes_file) this.fromFile = readMutesFile(cfg.mutes_file);
  }

  list(): Mute[] {
    const file = this.cfg.mutes_file;
    if (file) {
      const mtime = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      if (mtime !== this.mtime) {
        this.mtime = mtime;
        try {
          this.fromFile = readMutesFile(file);
          this.logger.info({ file, mutes: this.fromFile.length }, 'mutes file loaded');
        } catch (err) {
          this.logger.warn({ file, err: (err as Error).message }, 'mutes file invalid; keeping the previous list');
        }
      }
    }
    return [...this.cfg.mutes, ...this.fromFile];
  }
}
