// The `relaystore` command: dispatches to serve, rotate-key and the client commands.
import { parseServeConfig, SERVE_OPTIONS } from './config.js';
import { serve } from './serve.js';
import { startManagedTor } from './tor/start.js';
import { KeyRing } from './keys/keyring.js';
import { backupDataDir } from './store/backup.js';
import { describeError, jsonLogger } from './util/log.js';
import { CLIENT_USAGE, runClientCommand } from './cli/client-commands.js';
import { GROUP_USAGE, isGroupInvocation, runGroupCommand } from './cli/group-commands.js';

const USAGE = `usage: relaystore <command> [options]

commands:
  serve        run the service (see "relaystore serve --help")
  rotate-key   --data-dir DIR: make a new sealing key current (older keys keep opening)
  backup       --data-dir DIR --to FILE: a consistent copy while it runs (restore: tar -xf FILE -C NEWDIR)
  info, submit, status, cancel   the client side (below)
  renew, audit                   several servers, and the dead man's switch (below)

${CLIENT_USAGE}
${GROUP_USAGE}`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'rotate-key':
      return rotateKey(rest);
    case 'backup':
      return backup(rest);
    case 'info':
      return runClientCommand(command, rest);
    case 'submit':
    case 'status':
    case 'cancel':
      return isGroupInvocation(command, rest, process.env) ? runGroupCommand(command, rest) : runClientCommand(command, rest);
    case 'renew':
    case 'audit':
      return runGroupCommand(command, rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`relaystore: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

async function runServe(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: relaystore serve [options]\n\n');
    for (const o of SERVE_OPTIONS) {
      const env = `RELAYSTORE_${o.name.toUpperCase().replace(/-/g, '_')}`;
      process.stdout.write(`  --${o.name}${o.flag ? '' : ' VALUE'}\n      ${o.help} [env ${env}]\n`);
    }
    return 0;
  }
  const parsed = parseServeConfig(argv, process.env);
  if (parsed.kind === 'invalid') {
    process.stderr.write(`relaystore serve: invalid configuration:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 2;
  }
  // Everything the service writes (database, WAL, keys, Tor state) is for its user alone.
  process.umask(0o077);
  const log = jsonLogger((line) => process.stdout.write(line), parsed.config.logLevel);
  let running;
  try {
    running = await serve(parsed.config, log, parsed.config.tor === 'managed' ? startManagedTor : null);
  } catch (err) {
    log.log('error', 'start_failed', { error: describeError(err) });
    process.stderr.write(`relaystore serve: ${describeError(err)}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.log('info', 'signal', { signal });
      running.stop().then(
        () => resolve(0),
        (err) => {
          log.log('error', 'stop_failed', { error: describeError(err) });
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}

/** `--name VALUE` or `--name=VALUE`; null when absent, '' when given without a value. */
function option(argv: readonly string[], name: string): string | null {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return null;
  return argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : argv[i + 1] ?? '';
}

async function rotateKey(argv: string[]): Promise<number> {
  const dataDir = option(argv, 'data-dir') ?? process.env.RELAYSTORE_DATA_DIR ?? './data';
  if (!dataDir) {
    process.stderr.write('relaystore rotate-key: --data-dir needs a value\n');
    return 2;
  }
  const ring = await KeyRing.rotate(dataDir);
  process.stdout.write(`new sealing key ${ring.current.keyId} is current; ${ring.all().length - 1} older key(s) still open what was sealed to them.\nRestart the service to use it.\n`);
  return 0;
}

async function backup(argv: string[]): Promise<number> {
  const dataDir = option(argv, 'data-dir') ?? process.env.RELAYSTORE_DATA_DIR ?? './data';
  const to = option(argv, 'to');
  if (!dataDir || !to) {
    process.stderr.write('usage: relaystore backup --data-dir DIR --to FILE\n');
    return 2;
  }
  // The archive and the snapshot it is made from hold the keys: for this user alone.
  process.umask(0o077);
  try {
    const { entries, bytes } = await backupDataDir(dataDir, to);
    process.stdout.write(`backup of ${dataDir} written to ${to} (${bytes} bytes: ${entries.join(', ')}).\nRestore: mkdir -m 700 NEWDIR && tar -xf ${to} -C NEWDIR, then relaystore serve --data-dir NEWDIR\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`relaystore backup: ${describeError(err)}\n`);
    return 1;
  }
}
