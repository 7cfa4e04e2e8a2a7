// Adapts the managed tor to serve()'s TorStarter: start tor for the API's listener, report its onion.
import type { TorStarter } from '../serve.js';

export const startManagedTor: TorStarter = async () => {
  throw new Error('--tor managed is not available yet: use --tor external with your own Tor (see torrc.example)');
};
