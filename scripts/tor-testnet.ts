// Manual testing aid: starts the private loopback Tor network and prints the torrc lines a tor needs to join it.
// Usage: node dist/scripts/tor-testnet.js [--client] [--onion PORT ...] [--torrc-out FILE]; Ctrl-C tears it down.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TorNetwork } from '../test/support/tor-network.js';

function parseArgs(argv: string[]): { client: boolean; onionPorts: number[]; torrcOut: string | null } {
  const out = { client: false, onionPorts: [] as number[], torrcOut: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--client') out.client = true;
    else if (arg === '--onion') {
      const port = Number(argv[++i]);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error('--onion needs a TCP port');
      out.onionPorts.push(port);
    } else if (arg === '--torrc-out') out.torrcOut = argv[++i] ?? null;
    else throw new Error(`unknown argument ${arg} (use --client, --onion PORT, --torrc-out FILE)`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const log = (line: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'relaystore-tornet-'));
  let network: TorNetwork | null = null;
  const starting = new AbortController();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (network) {
      log(`${signal}: stopping ${network.pids.length} tor processes`);
      await network.stop();
    } else {
      // Mid start-up: TorNetwork.start stops what it started and rejects (handled below).
      log(`${signal}: interrupted during start-up`);
      starting.abort();
      return;
    }
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    network = await TorNetwork.start({ dir, log, signal: starting.signal });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (starting.signal.aborted) process.exit(0);
    throw err;
  }

  const torrc = network.torrcForClient();
  if (args.torrcOut) {
    await writeFile(args.torrcOut, torrc);
    log(`client torrc lines written to ${args.torrcOut}`);
  }
  process.stdout.write(`# torrc lines to join the test network (network dir ${network.dir}):\n${torrc}\n`);

  if (args.client || args.onionPorts.length > 0) {
    const client = await network.startClient({ name: 'manual', onions: args.onionPorts.map((targetPort) => ({ targetPort })) });
    process.stdout.write(`# client tor: SOCKS ${client.socksUrl}, control port ${client.controlPort}\n`);
    args.onionPorts.forEach((port, i) => process.stdout.write(`# onion ${client.onions[i]} -> 127.0.0.1:${port}\n`));
  }
  log('ready; press Ctrl-C to stop');
  // Keeps the event loop alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`tor-testnet: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
