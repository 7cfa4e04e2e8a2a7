// The cap on open client connections (SPEC §8 --max-connections): at the cap a new connection takes the
// place of the longest-idle keep-alive one, or is closed at once. Slow clients: the server's timeouts.
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Tally } from '../util/tally.js';

/** Closing the newcomer at once frees its descriptor before the next accept. */
export class ConnectionCap {
  /** Every open client connection, with its requests not yet answered. */
  private readonly open = new Map<Socket, number>();
  /** Connections between two requests, the longest idle first (a Set keeps insertion order). */
  private readonly idle = new Set<Socket>();

  constructor(
    private readonly max: number,
    private readonly tally: Tally,
  ) {}

  /** Must be attached before the server listens. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.busy(req.socket, res));
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.busy(req.socket, res));
  }

  get size(): number {
    return this.open.size;
  }

  private admit(socket: Socket): void {
    if (this.open.size >= this.max && !this.closeLongestIdle()) {
      this.tally.count('connections_refused');
      socket.destroy();
      return;
    }
    this.open.set(socket, 0);
    socket.once('close', () => {
      this.open.delete(socket);
      this.idle.delete(socket);
    });
  }

  private closeLongestIdle(): boolean {
    const oldest = this.idle.values().next();
    if (oldest.done) return false;
    this.tally.count('idle_connections_closed');
    this.open.delete(oldest.value);
    this.idle.delete(oldest.value);
    oldest.value.destroy();
    return true;
  }

  private busy(socket: Socket, res: ServerResponse): void {
    const pending = this.open.get(socket);
    if (pending === undefined) return;
    this.open.set(socket, pending + 1);
    this.idle.delete(socket);
    res.once('close', () => this.answered(socket));
  }

  private answered(socket: Socket): void {
    const pending = this.open.get(socket);
    if (pending === undefined) return;
    this.open.set(socket, pending - 1);
    if (pending === 1) this.idle.add(socket);
  }
}
