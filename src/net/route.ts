// Which way a connection leaves: through Tor's SOCKS port (socks5h, so that Tor resolves names), or
// directly, which only a host on this machine may be reached by.
export const DEFAULT_SOCKS = 'socks5h://127.0.0.1:9050';

/** localhost, ::1 (bracketed or not) and 127.0.0.0/8: the hosts reached without Tor. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The SOCKS URL given, else none for servers all on this machine, else Tor's usual port: never direct by accident. */
export function socksFor(given: string | undefined, servers: readonly URL[]): string | null {
  return given ?? (servers.every((s) => isLoopbackHost(s.hostname)) ? null : DEFAULT_SOCKS);
}
