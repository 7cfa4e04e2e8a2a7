// The HTTP server in front of the Koa app, set for hostile clients (SPEC §8): capped connections, slow
// clients freed in seconds, and client errors counted in the summary rather than logged one by one.
import http from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionCap } from './connections.js';
import type { Tally } from '../util/tally.js';

/** Headers must be complete this long after a request starts (Tor adds seconds, not tens of them). */
const HEADERS_TIMEOUT_MS = 10_000;
/** A whole request, body included (the largest allowed body is ~200 kB). */
const REQUEST_TIMEOUT_MS = 30_000;
/** An idle keep-alive connection is closed after this (and first, to make room at the cap). */
const KEEP_ALIVE_TIMEOUT_MS = 10_000;
/** How often Node looks for requests past those timeouts (its default, 30 s, would double them). */
const TIMEOUT_CHECK_MS = 1_000;

export interface HttpServerOptions {
  readonly maxConnections: number;
  readonly tally: Tally;
}

export function createHttpServer(handler: http.RequestListener, options: HttpServerOptions): http.Server {
  const server = http.createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_MS, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  new ConnectionCap(options.maxConnections, options.tally).attach(server);
  // No automatic "100 Continue": the body reader asks for the body once its size is acceptable.
  server.on('checkContinue', handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => clientError(err, socket, options.tally));
  return server;
}

/** Node's own answers to broken or late requests, counted instead of left to its defaults. */
function clientError(err: NodeJS.ErrnoException, socket: Socket, tally: Tally): void {
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  // A reset, or the end of the stream in the middle of a request: the client left.
  const gone = !timeout && (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable);
  tally.count(timeout ? 'client_timeouts' : gone ? 'client_aborts' : 'bad_requests', socket);
  // As Node does: answer only on a connection that has had no answer yet, so nothing is corrupted.
  if (!gone && socket.writable && socket.bytesWritten === 0) {
    const status = timeout ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}
