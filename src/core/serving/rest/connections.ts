// Open connections of the REST server: counted, capped, and told apart idle from busy for draining.
// The cap (--max_connections) does not drop sockets at accept (a client would see a bare reset): an over-cap
// connection is accepted, its first request answered 503 with Retry-After and Connection: close, and it is closed,
// so the client reads why. Until it sends a request it holds no more than a socket, for at most the header timeout.
import type http from 'node:http';
import type { Socket } from 'node:net';

/** Default --max_connections. */
export const DEFAULT_MAX_CONNECTIONS = 4096;

const OVER_CAP = Symbol('tfsvc.overCap');

export class ConnectionTracker {
  private open = 0;
  /** Connections turned away because the cap was reached. */
  rejected = 0;

  constructor(server: http.Server, private readonly max: number) {
    // Before node:http's own listener, so the mark is there when the first request is parsed.
    server.prependListener('connection', (socket: Socket) => {
      if (this.max > 0 && this.open >= this.max) {
        (socket as Socket & { [OVER_CAP]?: boolean })[OVER_CAP] = true;
        this.rejected++;
      }
      this.open++;
      socket.once('close', () => this.open--);
    });
  }

  /** Connections currently open (over-cap ones included until they close). */
  count(): number {
    return this.open;
  }

  /** Whether this request came on a connection accepted over the cap (answer 503 and close it). */
  static overCap(req: http.IncomingMessage): boolean {
    return (req.socket as Socket & { [OVER_CAP]?: boolean })[OVER_CAP] === true;
  }
}
