// Graceful shutdown of the REST server without losing requests that clients already sent.
// node:http's close() destroys idle keep-alive sockets at once. A request a client wrote on such a socket a moment
// before the signal may already sit in the kernel's receive buffer, unread: node still counts the socket idle, and
// destroying it resets the connection (the client sees ECONNRESET for a request it sent before the signal). So:
//  1. stop listening (no new connections), keeping idle sockets open;
//  2. for `lingerMs`, keep reading: requests arriving on open connections are answered, with Connection: close;
//  3. then close the sockets that are idle; busy ones close after their answer (which carries Connection: close);
//  4. after `graceMs`, cut whatever is left.
import type http from 'node:http';

/** How long open connections keep being read after the listener closes (requests already on the wire). */
export const DRAIN_LINGER_MS = 250;

export interface DrainOptions {
  /** Resolves when every request received so far has been answered. */
  drained: () => Promise<void>;
  lingerMs?: number;
  graceMs: number;
}

/** Drains `server` as above; resolves when it is closed. */
export function drainHttpServer(server: http.Server, opts: DrainOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    const closed = new Promise<void>((r) => {
      // close() calls closeIdleConnections() first (node >= 19): suppress that one call, step 3 does it later.
      const closeIdle = server.closeIdleConnections;
      server.closeIdleConnections = () => undefined;
      try {
        server.close(() => r());
      } finally {
        server.closeIdleConnections = closeIdle;
      }
    });
    const force = setTimeout(() => server.closeAllConnections(), opts.graceMs);
    force.unref();
    const linger = new Promise<void>((r) => setTimeout(r, opts.lingerMs ?? DRAIN_LINGER_MS).unref());
    // Idle sockets are closed after the linger, and again each time the in-flight count reaches zero (a request that
    // arrived during the linger may have left its socket idle after its Connection: close answer was sent).
    void linger
      .then(() => {
        server.closeIdleConnections();
        return opts.drained();
      })
      .then(() => {
        server.closeIdleConnections();
        return closed;
      })
      .then(() => {
        clearTimeout(force);
        resolve();
      });
  });
}
