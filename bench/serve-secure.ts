// bench/serve-secure: what the production envelope costs. tfsvc serve on the fixture MNIST model, plain HTTP against
// HTTPS + JWT (RS256 token checked on every request against a JWKS; verified tokens are cached by hash, so after the
// first request a token costs a SHA-256 and a map lookup), and HTTPS alone, measured side by side in one run,
// alternating rounds so machine noise hits all alike. Servers are pinned to core 1, this load generator to core 0
// (taskset, as bench/serve: bench/pin.ts; --no-pin turns it off). Prints each round and the median of the per-round
// ratios:
//   - max throughput (closed loop, C keep-alive connections opened while warming and kept across rounds, as a load
//     balancer's pool keeps them): secure / plain      (goal >= 0.80)
//   - server CPU per request: plain / secure (what a CPU-bound server's throughput ratio would be), per round and the
//     least over the rounds (neighbours' load only adds to it). The load generator shares the machine and pays for its
//     own TLS: when the server is not the bottleneck, the throughput ratio measures the generator too.
// --cpu-prof DIR runs every server under `node --cpu-prof` (profiles written to DIR when the run ends), to see where a
// secured request's extra time goes. The certificate and token come from bench/secure-fixture.ts (openssl; skipped
// with a message when it is missing).
//
// Usage (after `npx tsc -p tsconfig.json`):
//   node dist/bench/serve-secure.js [--model DIR] [--duration S] [--connections N] [--rounds N] [--workers N]
//     [--cpu-prof DIR] [--no-pin]
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClient } from '../src/core/load/client.js';
import type { ClientSecurity } from '../src/core/load/security.js';
import { makeBody } from './mnist-body.js';
import { cpuSeconds, onCore, pinNote, pinSelf } from './pin.js';
import { arg, repoRootOf } from './script-util.js';
import { hasOpenssl, makeSecureFixture, secureArgs, secureEnvelope, secureFilesFromArgs, type SecureFiles } from './secure-fixture.js';

const here = fileURLToPath(import.meta.url);
const root = repoRootOf(import.meta.url);

/** A server role (child process): tfsvc on `modelDir`, plain or with HTTPS (+ JWT). */
async function serve(modelDir: string, workers: number, secure?: SecureFiles): Promise<void> {
  const { startServing } = await import('../src/core/serving/server.js');
  const { defaultBatching } = await import('../src/core/serving/config.js');
  const serving = await startServing({
    models: [{ name: 'm', basePath: modelDir, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: workers },
    envelope: secure ? secureEnvelope(secure) : undefined,
  });
  process.send?.({ port: serving.restPort });
}

function start(modelDir: string, workers: number, secure?: SecureFiles): Promise<{ child: ChildProcess; port: number }> {
  const profDir = arg('cpu-prof');
  const node = [process.execPath, ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`] : [])];
  const argv = onCore(1, [...node, here, '--role=server', `--model=${modelDir}`, `--workers=${workers}`, ...(secure ? secureArgs(secure) : [])]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/**
 * The client of one server: tfsvc bench's own HTTP sender (src/core/load/client.ts: undici's dispatch API, about half
 * the generator CPU of `request()`, which matters here: the generator pays for its own TLS on the same machine). Its
 * keep-alive connections are opened while warming and kept across rounds, as a load balancer's pool keeps them, so a
 * round measures requests rather than TLS handshakes.
 */
function clientFor(origin: string, connections: number, security?: ClientSecurity): HttpClient {
  return new HttpClient(new URL(`${origin}/v1/models/m:predict`), { connections, timeoutMs: 10_000 }, security);
}

/** Closed loop: C connections, each sends the next request when the previous answer arrives. Returns ok req/s. */
async function closedLoop(client: HttpClient, body: Buffer, connections: number, seconds: number): Promise<{ rate: number; errors: number }> {
  let ok = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const r = await client.send(body);
      if (r.status === 200) ok++;
      else errors++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const s = (performance.now() - t0) / 1000;
  return { rate: ok / s, errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (arg('role') === 'server') {
    // Exit cleanly on SIGTERM so --cpu-prof profiles are written; and with the driver, should it die first.
    process.on('SIGTERM', () => process.exit(0));
    process.on('disconnect', () => process.exit(0));
    await serve(arg('model')!, Number(arg('workers', '1')), secureFilesFromArgs(arg));
    return;
  }
  if (!hasOpenssl) {
    console.log('SKIP: openssl is not installed (needed to make the test certificate)');
    return;
  }
  const modelDir = path.resolve(arg('model') ?? path.join(root, 'fixtures/models/mnist'));
  const seconds = Number(arg('duration', '5'));
  const connections = Number(arg('connections', '32'));
  const rounds = Number(arg('rounds', '3'));
  const workers = Number(arg('workers', '1'));
  pinSelf(0);
  const fx = await makeSecureFixture();
  const servers: ChildProcess[] = [];
  let closeClients: () => Promise<unknown> = async () => undefined;
  try {
    const body = Buffer.from(makeBody(modelDir));
    const plain = await start(modelDir, workers);
    const secure = await start(modelDir, workers, fx);
    const tlsOnly = await start(modelDir, workers, { cert: fx.cert, key: fx.key });
    servers.push(plain.child, secure.child, tlsOnly.child);
    console.log(`== ${path.relative(root, modelDir)}: plain HTTP vs HTTPS + JWT (RS256), ${connections} connections, ${seconds}s x ${rounds} rounds, ${workers} worker(s)`);
    console.log(`   ${pinNote()}; the machine is shared, so figures are noisy: compare the ratios, measured in this one run.`);
    const tlsTrust: ClientSecurity = { ca: fx.ca, headers: {}, grpcTls: false };
    const clients = [clientFor(`http://127.0.0.1:${plain.port}`, connections), clientFor(`https://127.0.0.1:${secure.port}`, connections, fx.security), clientFor(`https://127.0.0.1:${tlsOnly.port}`, connections, tlsTrust)];
    closeClients = () => Promise.all(clients.map((c) => c.close()));
    const [plainClient, secureClient, tlsClient] = clients as [HttpClient, HttpClient, HttpClient];
    // Warm all three, opening every connection (their handshakes happen here, not in a measured round).
    for (const c of clients) await closedLoop(c, body, connections, 1);
    const p: number[] = [];
    const s: number[] = [];
    const pc: number[] = [];
    const sc: number[] = [];
    const t: number[] = [];
    const tc: number[] = [];
    // Server CPU per request, next to throughput: on a shared machine it moves less with the neighbours' load.
    const measure = async (srv: { child: ChildProcess; port: number }, client: HttpClient) => {
      const c0 = cpuSeconds(srv.child.pid);
      const r = await closedLoop(client, body, connections, seconds);
      return { ...r, cpuUs: ((cpuSeconds(srv.child.pid) - c0) / Math.max(1, r.rate * seconds)) * 1e6 };
    };
    for (let r = 0; r < rounds; r++) {
      const a = await measure(plain, plainClient);
      const b = await measure(secure, secureClient);
      const c = await measure(tlsOnly, tlsClient);
      t.push(c.rate);
      tc.push(c.cpuUs);
      p.push(a.rate);
      s.push(b.rate);
      pc.push(a.cpuUs);
      sc.push(b.cpuUs);
      console.log(`round ${r + 1}: plain ${a.rate.toFixed(0)} req/s ${a.cpuUs.toFixed(0)} us CPU/req (errors ${a.errors})   https+jwt ${b.rate.toFixed(0)} req/s ${b.cpuUs.toFixed(0)} us CPU/req (errors ${b.errors})   ratio ${(b.rate / a.rate).toFixed(2)}   (https only ${c.rate.toFixed(0)} req/s ${c.cpuUs.toFixed(0)} us CPU/req)`);
    }
    // Paired per round (each pair ran back to back), then the median: the machine's load moves between rounds.
    const paired = (num: number[], den: number[]) => median(num.map((x, i) => x / den[i]!)).toFixed(2);
    console.log(`https+jwt / plain max throughput, median of per-round ratios: ${paired(s, p)} (goal >= 0.80)`);
    console.log(`plain / https+jwt server CPU per request, median of per-round ratios: ${paired(pc, sc)} (the throughput ratio a CPU-bound server would see)`);
    console.log(`https only / plain: throughput ${paired(t, p)}, CPU per request ${paired(pc, tc)} (TLS's share; the rest of the gap is JWT)`);
    // Neighbours' load only ever adds CPU time to a request, so each server's least CPU per request over the rounds
    // is the steadiest figure on a shared machine.
    const best = (xs: number[]) => Math.min(...xs);
    console.log(`least server CPU per request over the rounds: plain ${best(pc).toFixed(0)} us, https+jwt ${best(sc).toFixed(0)} us, https only ${best(tc).toFixed(0)} us; plain / https+jwt ${(best(pc) / best(sc)).toFixed(2)}, plain / https only ${(best(pc) / best(tc)).toFixed(2)}`);
  } finally {
    await closeClients();
    for (const c of servers) c.kill('SIGTERM');
    fx.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
