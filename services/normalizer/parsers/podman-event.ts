import type { RawRecord } from '../../../schemas/raw.ts';
import { validDate } from './fields.ts';
import { journalTime, parseJsonOrFail } from './podman-api.ts';
import { ParseError, type Fields, type Parsed, type Parser } from './types.ts';

interface Ev {
  status: string; type: string; id?: string; name?: string; image?: string; time: Date;
  exitCode?: number; attributes?: Record<string, string>; inspect?: unknown; cmdline?: string;
}

const observer = { type: 'container-engine', product: 'podman' };

function fromJournal(j: Record<string, unknown>, record: RawRecord): Ev {
  const s = (k: string) => (typeof j[k] === 'string' && j[k] !== '' ? (j[k] as string) : undefined);
  const status = s('PODMAN_EVENT');
  const type = s('PODMAN_TYPE');
  if (!status || !type) throw new ParseError('journal entry without PODMAN_EVENT/PODMAN_TYPE');
  let attributes: Record<string, string> | undefined;
  const labels = s('PODMAN_LABELS');
  if (labels) {
    try { attributes = JSON.parse(labels) as Record<string, string>; } catch { throw new ParseError('PODMAN_LABELS is not JSON'); }
  }
  let inspect: unknown;
  const inspectText = s('PODMAN_CONTAINER_INSPECT_DATA');
  if (inspectText) {
    try { inspect = JSON.parse(inspectText); } catch { throw new ParseError('PODMAN_CONTAINER_INSPECT_DATA is not JSON'); }
  }
  const podmanTime = s('PODMAN_TIME');
  const time = podmanTime ? new Date(podmanTime) : journalTime(record) ?? new Date(NaN);
  return {
    status, type, id: s('PODMAN_ID'), name: s('PODMAN_NAME'), image: s('PODMAN_IMAGE'), time,
    exitCode: s('PODMAN_EXIT_CODE') !== undefined ? Number(s('PODMAN_EXIT_CODE')) : undefined,
    attributes, inspect, cmdline: s('_CMDLINE'),
  };
}

function fromJson(o: Record<string, unknown>): Ev {
  const s = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const status = s('Status') ?? s('status');
  const type = s('Type') ?? s('type');
  if (!status || !type) throw new ParseError('missing Status or Type');
  let time: Date;
  if (typeof o.timeNano === 'number' || typeof o.timeNano === 'string') time = new Date(Math.floor(Number(o.timeNano) / 1e6));
  else if (typeof o.time === 'number') time = new Date(o.time * 1000);
  else time = new Date(s('Time') ?? s('time') ?? '');
  const attrs = (o.Attributes ?? o.attributes) as Record<string, unknown> | null | undefined;
  const attributes = attrs && typeof attrs === 'object'
    ? Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, String(v)]))
    : undefined;
  const exit = o.ContainerExitCode ?? o.containerExitCode;
  return {
    status, type, id: s('ID') ?? s('id'), name: s('Name') ?? s('name'), image: s('Image') ?? s('image'), time,
    exitCode: typeof exit === 'number' ? exit : undefined, attributes,
  };
}

/** `podman exec [-u USER] [--privileged] [-t] CONTAINER CMD...` from the CLI's command line. */
function execFromCmdline(cmdline: string | undefined): NonNullable<Fields['podman']>['exec'] | undefined {
  if (!cmdline) return undefined;
  const argv = cmdline.split(' ').filter(Boolean);
  const i = argv.indexOf('exec');
  if (i === -1) return undefined;
  let user: string | undefined;
  let privileged = false;
  let tty = false;
  let j = i + 1;
  for (; j < argv.length && argv[j]!.startsWith('-'); j++) {
    const a = argv[j]!;
    if (a === '-u' || a === '--user') user = argv[++j];
    else if (a.startsWith('--user=')) user = a.slice(7);
    else if (a === '--privileged') privileged = true;
    else if (/^-[a-z]*t/.test(a) || a === '--tty') tty = true;
    else if (['-e', '--env', '-w', '--workdir', '--env-file', '--detach-keys', '--preserve-fds'].includes(a)) j++;
  }
  return { command: argv.slice(j + 1), ...(user ? { user } : {}), privileged, tty };
}

function containerDetails(inspect: unknown): NonNullable<Fields['podman']>['container'] | undefined {
  const i = inspect as { HostConfig?: { Privileged?: boolean }; Mounts?: Array<{ Type?: string; Source?: string }> } | undefined;
  if (!i || typeof i !== 'object') return undefined;
  const mounts = (i.Mounts ?? []).filter((m) => m.Type === 'bind' && m.Source).map((m) => m.Source!);
  return { privileged: Boolean(i.HostConfig?.Privileged), ...(mounts.length ? { host_mounts: mounts } : {}) };
}

/**
 * Podman events: from journald (`PODMAN_EVENT`, `PODMAN_TYPE`, ...) or as JSON from the events
 * file (`events_logger = "file"`) and `podman events --format json`.
 */
export const podmanEvent: Parser = {
  name: 'podman-event',
  detect: (record, text) => (record.journal ? typeof record.journal.PODMAN_EVENT === 'string'
    : text.startsWith('{') && /"(Status|status)"/.test(text) && /"(Type|type)"/.test(text) && /"(Time|time|timeNano)"/.test(text)),
  parse(record, text): Parsed {
    const ev = record.journal ? fromJournal(record.journal, record) : fromJson(parseJsonOrFail(text));
    const isContainer = ev.type === 'container';
    const exec = ev.status === 'exec' ? execFromCmdline(ev.cmdline) : undefined;
    const details = containerDetails(ev.inspect);
    return {
      timestamp: validDate(ev.time, 'event time'),
      dataset: 'podman.events',
      observer,
      kind: 'podman-event',
      action: `${ev.type}.${ev.status}`,
      ...(ev.exitCode !== undefined && ev.exitCode !== 0 && ev.status === 'died' ? { failure: `exit code ${ev.exitCode}` } : {}),
      fields: {
        container: isContainer ? { ...(ev.id ? { id: ev.id } : {}), ...(ev.name ? { name: ev.name } : {}), ...(ev.image ? { image: { name: ev.image } } : {}) } : undefined,
        podman: {
          event: {
            status: ev.status, type: ev.type,
            ...(ev.exitCode !== undefined && Number.isInteger(ev.exitCode) ? { exit_code: ev.exitCode } : {}),
            ...(ev.attributes && Object.keys(ev.attributes).length ? { attributes: ev.attributes } : {}),
          },
          ...(exec ? { exec } : {}),
          ...(details ? { container: details } : {}),
        },
        ...(!isContainer && ev.name ? { labels: { [`podman_${ev.type}`]: ev.name } } : {}),
      },
    };
  },
};
