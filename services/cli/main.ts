import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../common/config.ts';
import { UserError } from '../common/errors.ts';

const USAGE = `usage: podwatch <command> [options]

commands:
  run <service>        run one service: collector
  help                 this text

options:
  -c, --config FILE    configuration file (or PODWATCH_CONFIG); defaults apply without one
`;

type Main = (cfg: ReturnType<typeof loadConfig>, argv: string[]) => Promise<void>;

const SERVICES: Record<string, () => Promise<{ main: Main }>> = {
  collector: () => import('../collector/main.ts'),
};

async function run(argv: string[]): Promise<void> {
  const { positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: false,
    options: { config: { type: 'string', short: 'c' } },
  });
  const [command, ...rest] = positionals;
  switch (command) {
    case 'run': {
      const name = rest[0];
      const load = name ? SERVICES[name] : undefined;
      if (!load) throw new UserError(`run needs a service: ${Object.keys(SERVICES).join(', ')}`);
      const cfg = loadConfig(argv);
      const { main } = await load();
      await main(cfg, argv);
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
