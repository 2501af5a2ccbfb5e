import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../common/config.ts';
import { UserError } from '../common/errors.ts';

const USAGE = `usage: podwatch <command> [options]

commands:
  run --standalone     the whole pipeline in one process (collect, normalize, detect, print alerts)
  run <service>        run one service: collector, normalizer, detector, alerter, indexer, scheduler
  normalize [FILE|-]   parse raw log lines (or journalctl -o json lines) into events, offline
      --format NAME      auto (default) or a parser name: nginx-json, nginx-combined, nginx-error,
                         haproxy, caddy, traefik, podman-api, podman-event, journald
      --source NAME      source name stamped on the events (default: cli)
      --dlq FILE         where dead letters go as NDJSON (default: stderr)
  detect [FILE|-]      run the detectors over events (NDJSON, e.g. from normalize), print alerts as NDJSON
      --detector ID      only this detector
  search QUERY         search indexed events and alerts (Elasticsearch query string syntax)
      --since T --until T  time range: 1h, 30m, 7d or an ISO timestamp
      --fields a,b       table columns   --json  NDJSON instead of a table   --limit N (50)
  alerts               recent alerts (--since, --json, --limit as for search; --open: still active, last seen within 1 h)
  review               the access review for a period, from Elasticsearch or the local store
      --since 7d         period start (default 7d); --json  the report as JSON; --send  deliver it too
  alert test --channel NAME   send a test notification to one channel now
  alert mute --rule ID|--entity VALUE --for 2h --by WHO --reason WHY
                       silence matching alerts (appends to alerter.mutes_file)
  health               exit 0 if the services running here answer /healthz (container HEALTHCHECK)
  help                 this text

options:
  -c, --config FILE    configuration file (or PODWATCH_CONFIG); defaults apply without one
`;

type Main = (cfg: ReturnType<typeof loadConfig>, argv: string[]) => Promise<void>;

const SERVICES: Record<string, () => Promise<{ main: Main }>> = {
  collector: () => import('../collector/main.ts'),
  normalizer: () => import('../normalizer/main.ts'),
  detector: () => import('../detector/main.ts'),
  alerter: () => import('../alerter/main.ts'),
  indexer: () => import('../indexer/main.ts'),
  scheduler: () => import('../scheduler/main.ts'),
  standalone: () => import('../standalone/main.ts'),
};

async function run(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true, strict: false,
    options: {
      config: { type: 'string', short: 'c' }, standalone: { type: 'boolean' }, format: { type: 'string' }, source: { type: 'string' }, dlq: { type: 'string' }, detector: { type: 'string' },
      since: { type: 'string' }, until: { type: 'string' }, fields: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' }, open: { type: 'boolean' },
      channel: { type: 'string' }, rule: { type: 'string' }, entity: { type: 'string' }, for: { type: 'string' }, by: { type: 'string' }, reason: { type: 'string' }, send: { type: 'boolean' },
    },
  });
  const [command, ...rest] = positionals;
  switch (command) {
    case 'run': {
      const name = values.standalone ? 'standalone' : rest[0];
      const load = name ? SERVICES[name] : undefined;
      if (!load) throw new UserError(`run needs a service: ${Object.keys(SERVICES).join(', ')}`);
      const cfg = loadConfig(argv);
      const { main } = await load();
      await main(cfg, argv);
      return;
    }
    case 'normalize': {
      const cfg = loadConfig(argv);
      const { normalizeCommand } = await import('./normalize.ts');
      await normalizeCommand(cfg, {
        format: (values.format as string | undefined) ?? 'auto', source: (values.source as string | undefined) ?? 'cli',
        dlq: values.dlq as string | undefined, input: rest[0],
      });
      return;
    }
    case 'detect': {
      const cfg = loadConfig(argv);
      const { detectCommand } = await import('./detect.ts');
      await detectCommand(cfg, { detector: values.detector as string | undefined, input: rest[0] });
      return;
    }
    case 'search':
    case 'alerts': {
      const cfg = loadConfig(argv);
      const { searchCommand } = await import('./search.ts');
      const v = values as Record<string, string | boolean | undefined>;
      await searchCommand(cfg, {
        query: command === 'alerts' ? rest[0] ?? '*' : rest.join(' ') || '*', alerts: command === 'alerts',
        since: v.since as string | undefined, until: v.until as string | undefined, fields: v.fields as string | undefined,
        json: Boolean(v.json), limit: v.limit as string | undefined, open: Boolean(v.open),
      });
      return;
    }
    case 'review': {
      const cfg = loadConfig(argv);
      const { reviewCommand } = await import('./review.ts');
      const v = values as Record<string, string | boolean | undefined>;
      await reviewCommand(cfg, { since: (v.since as string | undefined) ?? '7d', json: Boolean(v.json), send: Boolean(v.send) });
      return;
    }
    case 'alert': {
      const cfg = loadConfig(argv);
      const { alertTestCommand, alertMuteCommand } = await import('./alert.ts');
      const v = values as Record<string, string | undefined>;
      if (rest[0] === 'test') return alertTestCommand(cfg, v.channel);
      if (rest[0] === 'mute') return alertMuteCommand(cfg, { rule: v.rule, entity: v.entity, for: v.for, by: v.by, reason: v.reason });
      throw new UserError('alert needs a subcommand: test or mute');
    }
    case 'health': {
      const { healthCommand } = await import('./health.ts');
      await healthCommand(loadConfig(argv));
      return;
    }
    case undefined:
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UserError(`unknown command '${command}'\n\n${USAGE}`);
  }
}

run(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UserError) {
    process.stderr.write(`podwatch: ${err.message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 64);
  }
  throw err;
});
