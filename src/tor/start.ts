// Adapts the managed tor to serve()'s TorStarter: start tor for the API's listener, report its onion.
import { readFile } from 'node:fs/promises';
import type { TorStarter } from '../serve.js';
import { ManagedTor } from './managed-tor.js';

export const startManagedTor: TorStarter = async ({ dataDir, apiHost, apiPort, torConfig, log }) => {
  const extraTorrc = torConfig === null ? undefined : await readFile(torConfig, 'utf8');
  const tor = await ManagedTor.start({
    dataDir,
    apiHost,
    apiPort,
    ...(extraTorrc !== undefined ? { extraTorrc } : {}),
    log: (event, fields) => log.log('info', event, fields),
  });
  return {
    get socksUrl() {
      return tor.socksUrl;
    },
    get onion() {
      return tor.onion || null;
    },
    stop: () => tor.stop(),
  };
};
