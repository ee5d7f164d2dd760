/**
 * The `kes-server` command: `server --config FILE | --dev`, `identity of`, `--help`. Started by
 * `main.ts`.
 */
import { KesError, errorCode, errorMessage } from '../errors.ts';
import { parseArgs } from 'node:util';
import { DEFAULT_ADDRESS, loadConfig } from '../config/index.ts';
import { devSettings } from './dev.ts';
import { identityOf } from './identity.ts';
import { run } from './serve.ts';
import { settingsFromConfig } from './settings.ts';

const USAGE = `Usage:
  kes-server server --config FILE [--addr ADDR] [--workers N]
  kes-server server --dev [--addr ADDR]
  kes-server identity of <cert-file | kes:v1:api-key>
  kes-server --help

Commands:
  server        Start a KES server (HTTPS, mTLS) on ADDR (default ${DEFAULT_ADDRESS}).
  identity of   Print the identity of a certificate or API key.

Options:
  --config FILE   YAML configuration file.
  --dev           Ephemeral development server: in-memory keys, a fresh admin API key.
  --addr ADDR     Listen address ip:port; overrides the config file.
  --workers N     Worker processes sharing the port (default 1; always 1 with the in-memory
                  store). A client's connection stays on one worker, so more workers help only
                  with many client connections.
`;

class UsageError extends KesError {}

async function server(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      dev: { type: 'boolean', default: false },
      addr: { type: 'string' },
      workers: { type: 'string' },
    },
    strict: true,
  });
  if (values.dev && values.config !== undefined) throw new UsageError("'--config' cannot be used with '--dev'");
  if (values.dev) {
    const address = values.addr ?? DEFAULT_ADDRESS;
    const dev = devSettings(address);
    // The in-memory store cannot be shared between processes: always one worker.
    return run({
      address,
      workers: 1,
      settings: async () => dev.settings,
      banner: (endpoint) => [
        `Endpoint:  ${endpoint}`,
        `API Key:   ${dev.apiKey.toString()}`,
        `Admin:     ${dev.apiKey.identity}`,
        '',
        'Development server: keys are kept in memory and lost on exit.',
        `  export KES_SERVER=${endpoint}`,
        `  export KES_API_KEY=${dev.apiKey.toString()}`,
      ],
    });
  }
  if (values.config === undefined) throw new UsageError("either '--config FILE' or '--dev' is required");
  const configPath = values.config;
  const config = await loadConfig(configPath);
  const address = values.addr ?? config.address;
  let workers = 1;
  if (values.workers !== undefined) {
    workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`invalid --workers '${values.workers}'`);
    if (config.keystore.kind === 'mem') workers = 1;
  }
  return run({
    address,
    workers,
    configPath,
    settings: async (onKeystoreError) => settingsFromConfig(await loadConfig(configPath), onKeystoreError),
    banner: (endpoint) => [`Endpoint:  ${endpoint}`, `Admin:     ${config.admin}`, `Keystore:  ${config.keystore.kind}`, `Workers:   ${workers}`],
  });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  try {
    if (command === 'server') {
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(USAGE);
        return 0;
      }
      await server(rest);
      return -1; // keeps running
    }
    if (command === 'identity' && rest[0] === 'of' && rest.length === 2) {
      process.stdout.write((await identityOf(rest[1])) + '\n');
      return 0;
    }
    throw new UsageError(`unknown command '${argv.join(' ')}'`);
  } catch (err) {
    process.stderr.write(`Error: ${errorMessage(err)}\n`);
    if (err instanceof UsageError || errorCode(err) === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') process.stderr.write(`\n${USAGE}`);
    return err instanceof UsageError ? 2 : 1;
  }
}
