import fs from 'node:fs';
import os from 'node:os';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { Config } from '../../schemas/config.ts';
import { UserError } from './errors.ts';

export class ConfigError extends UserError {
  constructor(message: string) {
    super(message, 'E_CONFIG');
    this.name = 'ConfigError';
  }
}

/** Keys that hold secrets (a Slack or Teams webhook `url` is one); `<key>_file` beside one in YAML reads it from a file. */
const SECRET_KEYS = new Set(['password', 'api_key', 'secret', 'token', 'url']);

/** Environment overrides: variable → config path. Secrets also take `<VAR>_FILE`. */
const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string[]; list?: boolean; secret?: boolean }> = [
  { env: 'PODWATCH_KAFKA_BROKERS', path: ['kafka', 'brokers'], list: true },
  { env: 'PODWATCH_KAFKA_SASL_USERNAME', path: ['kafka', 'sasl', 'username'] },
  { env: 'PODWATCH_KAFKA_SASL_PASSWORD', path: ['kafka', 'sasl', 'password'], secret: true },
  { env: 'PODWATCH_ES_URL', path: ['elasticsearch', 'url'] },
  { env: 'PODWATCH_ES_USERNAME', path: ['elasticsearch', 'username'] },
  { env: 'PODWATCH_ES_PASSWORD', path: ['elasticsearch', 'password'], secret: true },
  { env: 'PODWATCH_ES_API_KEY', path: ['elasticsearch', 'api_key'], secret: true },
  { env: 'PODWATCH_SMTP_PASSWORD', path: ['alerter', 'smtp', 'password'], secret: true },
  { env: 'PODWATCH_LOG_LEVEL', path: ['log', 'level'] },
];

type Env = Record<string, string | undefined>;
type Obj = Record<string, unknown>;

/** The config file named by `--config FILE`, `--config=FILE` or PODWATCH_CONFIG. */
export function configPath(argv: readonly string[], env: Env): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') return argv[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return env.PODWATCH_CONFIG || undefined;
}

function readSecretFile(file: string, field: string): string {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${field}: cannot read secret file ${file} (${code})`);
  }
}

function setPath(obj: Obj, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Obj;
  }
  cur[path[path.length - 1]!] = value;
}

/** Replaces every `<secret>_file: PATH` with `<secret>: <contents>`. */
function resolveSecretFiles(node: unknown, where: string[]): void {
  if (Array.isArray(node)) { node.forEach((v, i) => resolveSecretFiles(v, [...where, String(i)])); return; }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Obj;
  for (const key of Object.keys(obj)) {
    const base = key.endsWith('_file') ? key.slice(0, -'_file'.length) : undefined;
    if (base && SECRET_KEYS.has(base) && typeof obj[key] === 'string') {
      obj[base] = readSecretFile(obj[key] as string, [...where, key].join('.'));
      delete obj[key];
    } else {
      resolveSecretFiles(obj[key], [...where, key]);
    }
  }
}

function applyEnv(raw: Obj, env: Env): void {
  for (const o of ENV_OVERRIDES) {
    let value: string | undefined = env[o.env];
    const file = o.secret ? env[`${o.env}_FILE`] : undefined;
    if (file) value = readSecretFile(file, `${o.env}_FILE`);
    if (value === undefined || value === '') continue;
    setPath(raw, o.path, o.list ? value.split(',').map((s) => s.trim()).filter(Boolean) : value);
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/** Parses, overrides and validates a configuration; throws ConfigError naming the field. */
export function parseConfig(raw: unknown, env: Env = {}, origin = 'configuration'): Readonly<Config> {
  const obj: Obj = raw === null || raw === undefined ? {} : (raw as Obj);
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError(`${origin}: the top level must be a mapping`);
  resolveSecretFiles(obj, []);
  applyEnv(obj, env);
  const result = Config.safeParse(obj);
  if (!result.success) throw new ConfigError(`invalid ${origin}:\n${z.prettifyError(result.error)}`);
  const cfg = result.data;
  cfg.host.name ??= os.hostname();
  return deepFreeze(cfg);
}

/** Loads the configuration once at startup: YAML file (optional) + environment. */
export function loadConfig(argv: readonly string[] = process.argv.slice(2), env: Env = process.env): Readonly<Config> {
  const file = configPath(argv, env);
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      if (err instanceof YAMLParseError) throw new ConfigError(`config file ${file} is not valid YAML: ${err.message}`);
      throw err;
    }
  }
  return parseConfig(raw, env, file ? `config file ${file}` : 'default configuration');
}
