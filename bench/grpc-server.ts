// Server CPU per gRPC call of the two gRPC server implementations (`--grpc_impl h2`, node:http2 with tfsvc's framing,
// against `--grpc_impl grpc-js`, the reference), side by side in one run. Each server runs tfsvc's real gRPC services
// (startGrpcServer: admission guard, handlers, protobufjs codecs) in a child process pinned to core 1 over an instant
// in-process model (y = 2x, no engine), so what differs is the transport; bench's own HTTP/2 client (pinned to core 0)
// keeps 32 calls in flight. Two calls: GetModelStatus (tiny messages: the transport alone) and Predict with one
// 784-float input (the MNIST shape: transport plus codec). The server's CPU time (/proc, user + system) over a fixed
// number of calls gives µs per call; rounds alternate so drift hits both alike.
// The machine may be shared: absolute figures are noisy; read the ratios.
// Usage (after `npm run build`): node dist/bench/grpc-server.js [--calls 20000] [--rounds 3] [--no-pin]
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { H2GrpcClient } from '../src/core/load/grpc-h2.js';
import type { HostTensor } from '../src/core/engine/types.js';
import type { ServableHandle, ServableLookup, VersionStatus } from '../src/core/serving/types.js';
import { servingServiceDefinitions, startGrpcServer, type GrpcImpl } from '../src/core/serving/grpc/server.js';
import { arg, cpuSeconds } from './script-util.js';
import { onCore, pinNote, pinSelf } from './pin.js';

const here = fileURLToPath(import.meta.url);
const X = { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 784] };

/** One model "m" that answers y = 2x at once. */
const instantLookup: ServableLookup = {
  acquire(name: string): ServableHandle {
    return {
      name,
      version: 1,
      signatures: { serving_default: { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: X }, outputs: { y: { ...X, name: 'y:0' } } } },
      signatureDefs: {},
      run: async (_s, inputs) => ({ y: { ...inputs.x!, data: (inputs.x!.data as Float32Array).map((v) => 2 * v) } as HostTensor }),
      release: () => undefined,
    };
  },
  status: (): VersionStatus[] => [{ version: 1, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' }],
};

async function serve(impl: GrpcImpl): Promise<void> {
  const server = await startGrpcServer(instantLookup, { port: 0, host: '127.0.0.1', impl });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ port: server.port });
}

function start(impl: GrpcImpl, pin: boolean): Promise<{ child: ChildProcess; port: number }> {
  const cmd = [process.execPath, here, `--role=${impl}`];
  const argv = pin ? onCore(1, cmd) : cmd;
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${impl} server exited with ${code}`)));
  });
}

/** `calls` calls of `path`, 32 in flight; throws on the first failed one. */
async function drive(client: H2GrpcClient, path: string, body: Buffer, calls: number): Promise<void> {
  let left = calls;
  const worker = async (): Promise<void> => {
    while (left-- > 0) {
      const a = await client.unary(path, body);
      if (a.code !== 0) throw new Error(`${path}: status ${a.code} ${a.details}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function main(): Promise<void> {
  const role = arg('role');
  if (role) return serve(role as GrpcImpl);
  const calls = Number(arg('calls', '20000'));
  const rounds = Number(arg('rounds', '3'));
  const pin = !process.argv.includes('--no-pin');
  if (pin) pinSelf(0);
  console.log(`bench/grpc-server: ${calls} calls per measurement, ${rounds} rounds, 32 in flight. ${pin ? pinNote() : 'not pinned'}`);
  console.log('The machine may be shared: read the ratios, the microseconds are noisy.');
  const defs = servingServiceDefinitions();
  const bodies: Record<string, [string, Buffer]> = {
    GetModelStatus: ['/tensorflow.serving.ModelService/GetModelStatus', defs.model.GetModelStatus!.requestSerialize({ modelSpec: { name: 'm' } }) as Buffer],
    'Predict 784 floats': [
      '/tensorflow.serving.PredictionService/Predict',
      defs.prediction.Predict!.requestSerialize({
        modelSpec: { name: 'm' },
        inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 784 }] }, floatVal: Array.from({ length: 784 }, (_, i) => i / 784) } },
      }) as Buffer,
    ],
  };
  const impls: GrpcImpl[] = ['h2', 'grpc-js'];
  const us: Record<string, Record<GrpcImpl, number[]>> = {};
  for (let r = 0; r < rounds; r++) {
    for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) {
      const { child, port } = await start(impl, pin);
      const client = new H2GrpcClient({ address: `127.0.0.1:${port}`, sessions: 1, timeoutMs: 30_000 });
      try {
        for (const [name, [p, body]] of Object.entries(bodies)) {
          await drive(client, p, body, Math.min(2000, calls)); // warm-up: JIT, connection
          const before = cpuSeconds(child.pid);
          await drive(client, p, body, calls);
          const cpu = cpuSeconds(child.pid) - before;
          ((us[name] ??= { h2: [], 'grpc-js': [] })[impl]).push((cpu * 1e6) / calls);
        }
      } finally {
        await client.close();
        child.kill();
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log('\nserver CPU per call (median of rounds; each round: ' + calls + ' calls):');
  for (const [name, byImpl] of Object.entries(us)) {
    const ratios = byImpl.h2.map((h, i) => h / byImpl['grpc-js'][i]!);
    console.log(
      `  ${name.padEnd(20)} h2 ${median(byImpl.h2).toFixed(0).padStart(5)} us   grpc-js ${median(byImpl['grpc-js']).toFixed(0).padStart(5)} us   ` +
        `h2 / grpc-js ${median(ratios).toFixed(2)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
