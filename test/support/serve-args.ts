// The one place that turns a test world's wishes into `relaystore serve` arguments, so that every
// world that spawns the service runs it the same way (fast polls, short retries, debug logs).

export type TorMode =
  | { readonly mode: 'off' }
  | { readonly mode: 'external'; readonly socks: string }
  | { readonly mode: 'managed'; readonly config: string };

export interface ServeWorld {
  readonly dataDir: string;
  readonly explorers: readonly string[];
  readonly tor: TorMode;
  readonly confirmations?: number;
  readonly pollIntervalSeconds?: number;
  readonly retryMinSeconds?: number;
  readonly retryMaxSeconds?: number;
  readonly requestTimeoutSeconds?: number;
  readonly maxPending?: number;
  /** Flags one world needs beyond these (e.g. a lower --max-window on one server of a group). */
  readonly extra?: readonly string[];
}

/**
 * Regtest on an ephemeral loopback port, polling every second; debug logs, because tests wait on
 * the scheduler's `tick` line (the tip it has judged) rather than sleeping.
 */
export function serveArgs(world: ServeWorld): string[] {
  const optional = (flag: string, value: number | undefined) => (value === undefined ? [] : [flag, String(value)]);
  return [
    '--network', 'regtest',
    '--data-dir', world.dataDir,
    '--listen', '127.0.0.1:0',
    ...torArgs(world.tor),
    ...world.explorers.flatMap((e) => ['--explorer', e]),
    '--poll-interval', String(world.pollIntervalSeconds ?? 1),
    '--confirmations', String(world.confirmations ?? 1),
    '--retry-min', String(world.retryMinSeconds ?? 1),
    '--retry-max', String(world.retryMaxSeconds ?? 2),
    ...optional('--request-timeout', world.requestTimeoutSeconds),
    ...optional('--max-pending', world.maxPending),
    '--log-level', 'debug',
    ...(world.extra ?? []),
  ];
}

function torArgs(tor: TorMode): string[] {
  switch (tor.mode) {
    case 'off':
      return ['--tor', 'off'];
    case 'external':
      return ['--tor', 'external', '--socks', tor.socks];
    case 'managed':
      return ['--tor', 'managed', '--tor-config', tor.config];
  }
}
