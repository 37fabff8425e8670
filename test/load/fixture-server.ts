// A node:http stand-in for a TF Serving endpoint, for load tests: answers POST .../:predict after a delay the test
// controls, and GET .../metadata with half_plus_two's metadata. Listens on 127.0.0.1, port 0; always close it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureServer {
  url: string;
  /** Requests answered so far. */
  count(): number;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** ms to wait before answering request number `n` (0-based) arriving at `now` (performance.now()). */
  delay?(n: number, now: number): number;
  /** HTTP status for request `n` (default 200). */
  status?(n: number): number;
  /** Sees every predict request's body. */
  onBody?(body: string, url: string): void;
}

export const HALF_PLUS_TWO_METADATA = {
  model_spec: { name: 'half_plus_two', signature_name: '', version: '123' },
  metadata: {
    signature_def: {
      signature_def: {
        serving_default: {
          inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '1', name: '' }], unknown_rank: false }, name: 'x:0' } },
          outputs: { y: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '1', name: '' }], unknown_rank: false }, name: 'y:0' } },
          method_name: 'tensorflow/serving/predict',
        },
        classify_x_to_y: {
          inputs: { inputs: { dtype: 'DT_STRING', tensor_shape: { dim: [], unknown_rank: true }, name: 'tf_example:0' } },
          outputs: {},
          method_name: 'tensorflow/serving/classify',
        },
      },
    },
  },
};

export async function startFixtureServer(o: FixtureOptions = {}): Promise<FixtureServer> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url?.endsWith('/metadata')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(HALF_PLUS_TWO_METADATA));
        return;
      }
      const i = n++;
      o.onBody?.(Buffer.concat(chunks).toString('utf8'), req.url ?? '');
      const status = o.status?.(i) ?? 200;
      const answer = () => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 200 ? '{"predictions": [2.5]}' : '{"error": "fixture says no"}');
      };
      const d = o.delay?.(i, performance.now()) ?? 0;
      if (d > 0) setTimeout(answer, d);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
