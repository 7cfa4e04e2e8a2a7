// `scripts/demo`: the whole of RelayStore on a private Tor network on this machine, in about a
// minute, narrated step by step; everything it starts is stopped again, even on Ctrl-C.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorNetwork } from '../test/support/tor-network.js';
import { TestExplorer } from '../test/support/explorer.js';
import { makeTx } from '../test/support/txs.js';
import { runCli, startService, type Service } from '../test/support/service.js';
import { socksJsonRetry } from '../test/support/socks-http.js';
import { RelayStoreClient } from '../src/index.js';

const t0 = Date.now();
const say = (text: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'relaystore-demo-'));
  let net: TorNetwork | null = null;
  let service: Service | null = null;
  let explorer: TestExplorer | null = null;
  const cleanup = async () => {
    say('cleaning up: stopping RelayStore, every tor process, the explorer');
    await service?.kill('SIGTERM');
    await net?.stop();
    await explorer?.close();
    await rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    say('starting a private Tor network on 127.0.0.1 (4 directory authorities, one exit) ...');
    net = await TorNetwork.start();
    say('Tor network is up.');

    explorer = await TestExplorer.start({ startHeight: 1000, unknownTxStatus: 'unconfirmed' });
    const explorerTor = await net.startClient({ name: 'explorer', onions: [{ targetPort: explorer.port }] });
    const explorerOnion = explorerTor.onions[0]!;
    say(`a regtest Esplora explorer answers as an onion service: ${explorerOnion}`);
    const wallet = await net.startClient({ name: 'wallet' });
    say(`a wallet's own Tor client is ready (SOCKS ${wallet.socksUrl})`);

    const torConfig = join(dir, 'join.torrc');
    await writeFile(torConfig, net.torrcForClient());
    say('starting `relaystore serve --tor managed` (it starts its own tor and publishes its onion) ...');
    service = await startService(
      ['--network', 'regtest', '--tor', 'managed', '--tor-config', torConfig, '--explorer', `http://${explorerOnion}/api`,
        '--data-dir', join(dir, 'data'), '--listen', '127.0.0.1:0', '--poll-interval', '1', '--confirmations', '2'],
      {},
      180_000,
    );
    const onion = String((await service.waitFor((l) => l.event === 'ready')).onion);
    say(`RelayStore is reachable at http://${onion}`);

    const info = await socksJsonRetry(wallet.socksUrl, `http://${onion}/v1/info`);
    say(`the wallet fetched /v1/info over Tor: network ${info.json.network}, sealing key ${info.json.sealing.keyId}`);
    const relay = new RelayStoreClient({ server: `http://${onion}`, socks: wallet.socksUrl });
    while (!(await relay.info()).tip) await sleep(500);

    const height = explorer.tip().height;
    const tx = makeTx({ locktime: height + 2 });
    say(`the wallet hands in a transaction locked until height ${height + 2} (tip is ${height}), txid ${tx.txid.slice(0, 16)}…, with:`);
    say(`  relaystore submit <hex> --server http://${onion.slice(0, 12)}….onion --socks ${wallet.socksUrl}`);
    const cli = await runCli(['submit', tx.hex, '--server', `http://${onion}`, '--socks', wallet.socksUrl, '--receipts', join(dir, 'receipts.jsonl')]);
    for (const line of (cli.stderr + cli.stdout).trimEnd().split('\n')) say(`  | ${line}`);
    if (cli.code !== 0) throw new Error(`relaystore submit exited ${cli.code}`);
    const id = /^  id +([0-9a-f]{32})$/m.exec(cli.stdout)![1]!;
    say('it was padded and sealed on the wallet side, and went in over Tor; the server cannot read it yet');

    const status = () => relay.status(id);
    explorer.mine(1);
    say(`mined block ${height + 1}: one short of maturity`);
    await sleep(2000);
    say(`status: ${(await status()).status}; the explorer has received ${explorer.received.length} transactions`);

    const matured = Date.now();
    explorer.mine(1);
    say(`mined block ${height + 2}: the transaction is mature; RelayStore opens it and broadcasts through Tor`);
    await explorer.waitForReceived(tx.txid, 120_000);
    say(`the explorer's onion received txid ${tx.txid.slice(0, 16)}… ${Date.now() - matured} ms after maturity, over a fresh circuit`);
    let s = await status();
    while (s.status !== 'broadcast' && s.status !== 'confirmed') s = await status();
    say(`status: ${s.status}, txid ${s.txid?.slice(0, 16)}…`);

    explorer.mine(2);
    say('mined two more blocks');
    while (s.status !== 'confirmed') {
      await sleep(500);
      s = await status();
    }
    say(`status: confirmed with ${s.confirmations} confirmations; the sealed blob is wiped from the store`);
  } finally {
    await cleanup();
    say('done.');
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
