// The `relaystore` command: dispatches to serve, rotate-key and the client commands.
export async function main(argv: string[]): Promise<number> {
  process.stderr.write(`relaystore: not yet implemented (${argv.join(' ')})\n`);
  return 2;
}
