// How good is tfsvc bench's gRPC client (src/core/load/grpc-h2.ts, its own HTTP/2 over a socket)? Two measurements,
// side by side in one run, the servers in a child process pinned to core 1 and this generator pinned to core 0
// (taskset; skipped with a note):
//  1. Rate: against a trivial gRPC server (trivial-h2-server.ts: a fixed answer from pre-built frames, far cheaper
//     per call than any of the clients), three clients: bench's, a bare unary client
//     over node:http2 (what bench used until it had its own HTTP/2: one stream per call, shared headers, a pre-built
//     frame; kept here as the reference for what node:http2 itself costs), and grpc-js (GrpcClient, what bench used
//     first), after a floor row with no client at all (calls answered on the next event-loop turn: what bench's own
//     attack costs and how steady it is on the machine at that moment). Client CPU per call (closed loop, 64 in
//     flight), then 5000 calls/s through bench's open-loop attack:
//     achieved send rate, generator lag p99, share of calls that waited for a free slot (all 128 in flight).
//     Goal (issue 9): lag p99 < 1 ms and < 1% waiting, at 5000/s on one core.
//  2. Agreement: at 500/s against the tfsvc gRPC server (the fixture MNIST model), bench's P50/P99 against two
//     independent clients: grpc-js used directly in a simple paced loop (1 ms ticks, its own histogram), and gRPC
//     C-core through Debian's python3-grpcio (bench/grpc-ref-client.py: raw unary calls with pre-encoded bytes, no
//     stubs, a pool of threads each sleeping until its calls' intended starts; run in a child process on core 0).
//     All measure from the moment a call is sent to its answer (bench's "uncorrected" latency; the loop's own clock
//     around makeUnaryRequest; the Python client's clock around its blocking call), so the ratios compare the clients
//     and not the pacers; latency from the intended start is printed beside each for reference. Rounds alternate so
//     drift hits all alike. Then each client's floor: the same rate and body against the trivial server of part 1, so
//     a reader sees how much of a disagreement is a reference client's own. The ratios bench / python-grpcio and
//     bench / grpc-js (medians of rounds) must be within 15%; the exit code follows python-grpcio, the leaner
//     reference (grpc-js's when python3 cannot import grpc: that row is then skipped with a note naming the package).
// `ghz` would be another independent client; Debian has no package for it (apt-cache policy ghz: none). h2load
// (nghttp2-client) was tried: its --rps mode starts requests in bursts (most gaps between starts under 10 µs at
// 500/s), so its latencies include queueing a constant-rate client does not cause; not a reference for this.
// The machine may be shared: absolute figures are noisy; the ratios are measured in this one run.
// Usage (after `npm run build`): node dist/bench/grpc-client.js [--rate 5000] [--seconds 3] [--compare-rate 500] [--rounds 2] [--part 1|2] [--no-pin]
//   [--client bench|node-http2|grpc-js]   (part 1 with that client only; profile it with node --cpu-prof)
//   [--python /usr/bin/python3] [--py-mode pool|thread|aio] [--bench-connections 128]   (part 2)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as hdr from 'hdr-histogram-js';
import { runBench } from '../src/core/load/bench.js';
import type { Outcome } from '../src/core/load/client.js';
import type { Endpoint, Sender } from '../src/core/load/endpoint.js';
import { GrpcClient } from '../src/core/load/grpc-client.js';
import { GrpcH2Sender, H2GrpcClient } from '../src/core/load/grpc-h2.js';
import { grpcBodyOf, inputAlias, makeBody } from './mnist-body.js';
import { onCore, pinNote, pinSelf } from './pin.js';
import { repoRootOf } from './script-util.js';
import { startTrivialH2Server } from './trivial-h2-server.js';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const PREDICT = '/tensorflow.serving.PredictionService/Predict';

/** The trivial server of part 1 (trivial-h2-server.ts): answers every call with the same 64-byte message. */
function serveTrivial(): void {
  startTrivialH2Server(Buffer.alloc(64), (grpcPort) => process.send?.({ grpcPort }));
}

/**
 * The reference over node:http2: a unary call as one http2 stream with a shared headers object and a pre-built
 * request frame, status from the trailers (what src/core/load/grpc-h2.ts was before it spoke HTTP/2 itself).
 */
class NodeHttp2Sender implements Sender {
  private readonly sessions: http2.ClientHttp2Session[] = [];
  private next = 0;
  private readonly frames = new WeakMap<Buffer, Buffer>();
  private readonly headers: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': PREDICT, 'content-type': 'application/grpc', te: 'trailers' };

  constructor(address: string, connections: number) {
    for (let i = 0; i < Math.min(8, Math.max(1, Math.ceil(connections / 32))); i++) this.sessions.push(http2.connect(`http://${address}`).on('error', () => {}));
  }

  send(body: Buffer): Promise<Outcome> {
    let f = this.frames.get(body);
    if (!f) {
      f = Buffer.alloc(5 + body.length);
      f.writeUInt32BE(body.length, 1);
      body.copy(f, 5);
      this.frames.set(body, f);
    }
    const stream = this.sessions[this.next++ % this.sessions.length]!.request(this.headers, { endStream: false });
    return new Promise((resolve) => {
      let bytesIn = 0;
      let status = '';
      stream.on('data', (c: Buffer) => (bytesIn += c.length));
      stream.on('trailers', (t) => (status = String(t['grpc-status'])));
      stream.on('error', () => {});
      stream.on('close', () => resolve(status === '0' ? { status: 200, bytesIn } : { status: 500, bytesIn, error: 'http', message: `grpc-status ${status}` }));
      stream.end(f);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.close();
  }
}

function startChild(argv: string[]): Promise<{ child: ChildProcess; grpcPort: number; port?: number }> {
  const cmd = onCore(1, [process.execPath, ...argv]);
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { grpcPort: number; port?: number }) => resolve({ child, grpcPort: m.grpcPort, port: m.port }));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function viaBench(endpoint: Endpoint, body: Buffer, rate: number, seconds: number, connections = 128) {
  const m = await runBench({ url: endpoint, bodies: [body], schedule: { kind: 'constant', rate }, durationMs: seconds * 1000, requests: Infinity, warmupMs: 500, timeoutMs: 10_000, connections });
  const s = m.summary();
  const h = m.health!;
  return { s, h, waits: (h.connectionWaits / (s.requests + Math.round(rate * 0.5))) * 100 };
}

/** The independent client: grpc-js directly, paced on 1 ms ticks; latency from the actual send and from the intended start. */
async function independent(address: string, body: Buffer, rate: number, seconds: number) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const fromSend = hdr.build();
  const fromIntended = hdr.build();
  const id = (b: Buffer) => b;
  let errors = 0;
  const warm = Math.round(rate * 0.5);
  const total = warm + Math.round(rate * seconds);
  let sent = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    while (sent < due) {
      const intended = t0 + (sent / rate) * 1000;
      const measured = sent++ >= warm;
      const start = performance.now();
      pending.push(
        new Promise<void>((resolve) =>
          client.makeUnaryRequest(PREDICT, id, id, body, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => {
            const now = performance.now();
            if (err) errors++;
            else if (measured) {
              fromSend.recordValue(Math.max(1, Math.round((now - start) * 1000)));
              fromIntended.recordValue(Math.max(1, Math.round((now - intended) * 1000)));
            }
            resolve();
          }),
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  client.close();
  const ms = (h: hdr.Histogram, p: number) => h.getValueAtPercentile(p) / 1000;
  return { p50: ms(fromSend, 50), p99: ms(fromSend, 99), intendedP50: ms(fromIntended, 50), intendedP99: ms(fromIntended, 99), errors };
}

/** Median latency of `n` calls one at a time (nothing else in flight), bench's client and grpc-js's, alternating. */
async function oneAtATime(address: string, body: Buffer, n: number): Promise<{ bench: number; grpcjs: number }> {
  const ours = new H2GrpcClient({ address, sessions: 1, timeoutMs: 10_000 });
  const ref = new grpc.Client(address, grpc.credentials.createInsecure());
  const id = (b: Buffer) => b;
  const a: number[] = [];
  const b: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      await ours.unary(PREDICT, body);
      a.push(performance.now() - t);
      t = performance.now();
      await new Promise<void>((resolve) => ref.makeUnaryRequest(PREDICT, id, id, body, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, () => resolve()));
      b.push(performance.now() - t);
    }
  } finally {
    await ours.close();
    ref.close();
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { bench: median(a), grpcjs: median(b) };
}

async function rateTest(rate: number, seconds: number): Promise<boolean> {
  const { child, grpcPort } = await startChild([here, '--serve-trivial']);
  const address = `127.0.0.1:${grpcPort}`;
  const body = grpcBodyOf(makeBody('mnist'), 'x');
  try {
    console.log(`\n1. rate: ${rate} calls/s for ${seconds}s (+0.5 s warmup) of ${body.length}-byte PredictRequests, trivial gRPC server (trivial-h2-server.ts), 128 in flight at most`);
    // The first row is no client at all: each "call" is answered on the next event-loop turn, so its figures are what
    // bench's own attack (pacer, records, histograms) costs and how steady it is on this machine right now: the floor
    // under every client's row.
    const all: Record<string, Endpoint> = {
      'no client (floor)': { label: 'none', open: () => ({ send: () => new Promise<Outcome>((r) => setImmediate(() => r({ status: 200, bytesIn: 69 }))), close: async () => {} }) },
      'bench (own HTTP/2)': { label: 'bench', open: (o) => new GrpcH2Sender(address, 'Predict', o) },
      'node:http2 (reference)': { label: 'node-http2', open: (o) => new NodeHttp2Sender(address, o.connections) },
      'grpc-js (GrpcClient)': { label: 'grpc-js', open: (o) => new GrpcClient(address, 'Predict', o) },
    };
    // --client bench|node-http2|grpc-js: that one only (after the floor), e.g. under `node --cpu-prof`.
    const only = args.includes('--client') ? args[args.indexOf('--client') + 1] : undefined;
    const clients = Object.fromEntries(Object.entries(all).filter(([, e]) => !only || e.label === 'none' || e.label === only));
    // Client CPU per call without the pacer (which spins between due times at high rates, whatever the client):
    // a closed loop of 64 calls in flight, 10000 calls, this process's CPU time divided by the calls.
    const perCall: Record<string, number> = {};
    for (const [name, e] of Object.entries(clients)) {
      await runBench({ url: e, bodies: [body], schedule: { kind: 'closed', concurrency: 64 }, durationMs: Infinity, requests: 2000, warmupMs: 0, timeoutMs: 10_000, connections: 64 });
      const cpu0 = process.cpuUsage();
      const m = await runBench({ url: e, bodies: [body], schedule: { kind: 'closed', concurrency: 64 }, durationMs: Infinity, requests: 10_000, warmupMs: 0, timeoutMs: 10_000, connections: 64 });
      const cpu = process.cpuUsage(cpu0);
      perCall[name] = (cpu.user + cpu.system) / Math.max(1, m.summary().requests);
      console.log(`   ${name.padEnd(24)} client CPU ${perCall[name]!.toFixed(1)} us/call (closed loop, 64 in flight, ${m.summary().ok} ok)`);
    }
    const [c0, c1, c2, c3] = Object.values(perCall) as [number, number, number, number];
    if (!only) console.log(`   ratio of client CPU per call: bench / node:http2 ${(c1 / c2).toFixed(2)}, bench / grpc-js ${(c1 / c3).toFixed(2)}; less the floor: ${((c1 - c0) / (c2 - c0)).toFixed(2)}, ${((c1 - c0) / (c3 - c0)).toFixed(2)}`);
    const out: Record<string, Awaited<ReturnType<typeof viaBench>>> = {};
    for (const [name, e] of Object.entries(clients)) {
      const r = (out[name] = await viaBench(e, body, rate, seconds));
      console.log(
        `   ${name.padEnd(24)} sent ${r.h.sendRate.toFixed(0).padStart(5)}/s  ok ${r.s.throughput.toFixed(0).padStart(5)}/s  lag p99 ${r.h.lagP99Ms.toFixed(3)} ms  ` +
          `waited for a slot ${r.waits.toFixed(2)}%  p50 ${r.s.corrected.p50.toFixed(2)} ms  p99 ${r.s.corrected.p99.toFixed(2)} ms  errors ${r.s.errors}`,
      );
    }
    const floor = out['no client (floor)']!;
    const a = out['bench (own HTTP/2)'];
    if (!a) return true;
    const ok = a.h.lagP99Ms < 1 && a.waits < 1 && Math.abs(a.h.sendRate - rate) / rate <= 0.01;
    console.log(`   goal for bench's client (lag p99 < 1 ms, < 1% waiting, send rate within 1%): ${ok ? 'met' : 'NOT met'}` + (floor.h.lagP99Ms >= 1 ? ` (the floor's own lag p99 is ${floor.h.lagP99Ms.toFixed(3)} ms: the machine is busy)` : ''));
    return ok;
  } finally {
    child.kill('SIGTERM');
  }
}

/** What bench/grpc-ref-client.py prints (ms; `p50`..`max` from the send). */
interface PyResult {
  count: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  from_intended: { p50: number; p90: number; p99: number };
  pacer_lag: { p99: number };
  /** null when fewer than two calls were measured. */
  send_rate: number | null;
  cpu_us_per_call: number;
  error_sample: string | null;
  grpc_version: string;
  python: string;
  mode: string;
}

/**
 * The Python interpreter that can `import grpc`: --python, else /usr/bin/python3 (where Debian's python3-grpcio
 * installs; a pyenv or venv `python3` first on PATH does not see it), else `python3`. A note instead when none can.
 */
function findPython(): { python?: string; note: string } {
  const given = args.includes('--python') ? args[args.indexOf('--python') + 1] : undefined;
  for (const py of given ? [given] : ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import grpc; print(grpc.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, note: `${py}, grpcio ${r.stdout.trim()}` };
  }
  return { note: `${given ?? '/usr/bin/python3 and python3'} cannot import grpc: the python-grpcio rows are SKIPPED (Debian: apt-get install python3-grpcio; or --python PATH)` };
}

/** The independent C-core client: bench/grpc-ref-client.py in a child process on this generator's core, the body on stdin. */
function viaPython(python: string, address: string, body: Buffer, rate: number, seconds: number): Promise<PyResult> {
  const script = path.join(repoRootOf(import.meta.url), 'bench/grpc-ref-client.py');
  const mode = args.includes('--py-mode') ? ['--mode', args[args.indexOf('--py-mode') + 1]!] : [];
  const cmd = onCore(0, [python, script, '--target', address, '--body', '-', '--rate', String(rate), '--seconds', String(seconds), '--warmup', '0.5', ...mode]);
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (err += c));
  child.stdin.end(body);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const fail = () => reject(new Error(`grpc-ref-client.py exited with ${code}: ${(out + err).trim().slice(-2000)}`));
      if (code !== 0) return fail();
      let r: PyResult;
      try {
        r = JSON.parse(out) as PyResult;
      } catch {
        return fail();
      }
      if (r.count === 0) return reject(new Error(`grpc-ref-client.py: no call succeeded (${r.errors} errors, e.g. ${r.error_sample})`));
      resolve(r);
    });
  });
}

const medianOf = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
const f3 = (x: number) => x.toFixed(3);
const within15 = (r: number) => Math.abs(r - 1) <= 0.15;

/**
 * A visible warning when a client did not hold the rate (send rate off by more than 1%, or its pacer's lag p99 over
 * 10 ms, five intervals at 500/s): that round measured a client short of CPU (on a shared core) or catching up in a
 * burst, not the server. The round still counts; the median of rounds absorbs one.
 */
const held = (sent: number, lagP99Ms: number, rate: number) => Math.abs(sent - rate) <= rate * 0.01 && lagP99Ms <= 10;
const behind = (name: string, sent: number, lagP99Ms: number, rate: number) =>
  !held(sent, lagP99Ms, rate)
    ? `\n           WARNING: ${name} did not hold the rate (sent ${sent.toFixed(0)}/s of ${rate}/s, pacer lag p99 ${lagP99Ms.toFixed(1)} ms): a client short of CPU on a shared core, or catching up after a stall; this round says more about the machine than the server`
    : '';

/** P50/P99 from the send, one list per client, one entry per round; `held`: whether the client held the rate (bench and python only). */
type Rounds = Record<string, { p50: number[]; p99: number[]; held: boolean[] }>;

/**
 * Each client in turn at `rate` against `address`, `rounds` times (alternating, so drift hits all alike); one line
 * per round and client. Latency from the send for all; from the intended start beside it, for reference.
 */
async function alternate(address: string, body: Buffer, rate: number, seconds: number, rounds: number, python: string | undefined): Promise<Rounds> {
  const ours: Endpoint = { label: 'bench', open: (o) => new GrpcH2Sender(address, 'Predict', o) };
  const out: Rounds = { bench: { p50: [], p99: [], held: [] }, 'grpc-js': { p50: [], p99: [], held: [] }, python: { p50: [], p99: [], held: [] } };
  const push = (k: string, p50: number, p99: number, ok = true) => (out[k]!.p50.push(p50), out[k]!.p99.push(p99), out[k]!.held.push(ok));
  // bench's --connections (its default, 128: calls over sessionsFor(128) = 4 HTTP/2 connections; the references use one).
  const connections = arg('bench-connections', 128);
  // Warm each client and the server up first (connections, JIT, the server's first batches).
  await viaBench(ours, body, rate, 0.5, connections);
  await independent(address, body, rate, 0.5);
  if (python) await viaPython(python, address, body, rate, 0.5);
  for (let i = 0; i < rounds; i++) {
    const cpu0 = process.cpuUsage();
    const r = await viaBench(ours, body, rate, seconds, connections);
    const cpu = process.cpuUsage(cpu0);
    // This process's CPU over the run (warmup included) per call: bench's client and its pacer, which spins on
    // setImmediate for the last ~1 ms before each due time (pacer.ts); comparable to the Python client's own figure.
    const benchCpu = (cpu.user + cpu.system) / (rate * (seconds + 0.5));
    push('bench', r.s.uncorrected.p50, r.s.uncorrected.p99, held(r.h.sendRate, r.h.lagP99Ms, rate));
    console.log(`   round ${i + 1}  bench (own HTTP/2)   from the send p50 ${f3(r.s.uncorrected.p50)} ms p99 ${f3(r.s.uncorrected.p99)} ms  errors ${r.s.errors}  | from the intended start (corrected) p50 ${f3(r.s.corrected.p50)} p99 ${f3(r.s.corrected.p99)}  (generator CPU ${benchCpu.toFixed(0)} us/call)${behind('bench', r.h.sendRate, r.h.lagP99Ms, rate)}`);
    const q = await independent(address, body, rate, seconds);
    push('grpc-js', q.p50, q.p99);
    console.log(`           grpc-js paced loop   from the send p50 ${f3(q.p50)} ms p99 ${f3(q.p99)} ms  errors ${q.errors}  | from the intended start (1 ms ticks) p50 ${f3(q.intendedP50)} p99 ${f3(q.intendedP99)}`);
    if (!python) continue;
    const y = await viaPython(python, address, body, rate, seconds);
    push('python', y.p50, y.p99, held(y.send_rate ?? 0, y.pacer_lag.p99, rate));
    console.log(
      `           python-grpcio        from the send p50 ${f3(y.p50)} ms p99 ${f3(y.p99)} ms  errors ${y.errors}${y.error_sample ? ` (${y.error_sample})` : ''}  | from the intended start p50 ${f3(y.from_intended.p50)} p99 ${f3(y.from_intended.p99)}` +
        `  (${y.mode} pacer, ${y.count} calls, sent ${(y.send_rate ?? 0).toFixed(0)}/s, pacer lag p99 ${f3(y.pacer_lag.p99)} ms, client CPU ${y.cpu_us_per_call.toFixed(0)} us/call)${behind('python-grpcio', y.send_rate ?? 0, y.pacer_lag.p99, rate)}`,
    );
  }
  return out;
}

/** bench / reference, medians of the rounds, for P50 and P99. */
function ratios(r: Rounds, ref: string): { p50: number; p99: number } {
  return { p50: medianOf(r.bench!.p50) / medianOf(r[ref]!.p50), p99: medianOf(r.bench!.p99) / medianOf(r[ref]!.p99) };
}

async function agreementTest(rate: number, seconds: number, rounds: number): Promise<boolean> {
  const model = path.resolve(path.dirname(here), '../../fixtures/models/mnist');
  const py = findPython();
  console.log(`\n2. agreement at ${rate}/s: bench against two independent clients, grpc-js in a paced loop and python-grpcio (gRPC C-core, bench/grpc-ref-client.py), ${rounds} alternating rounds of ${seconds}s each`);
  console.log(`   python: ${py.note}`);
  let served: Rounds;
  let solo: { bench: number; grpcjs: number };
  let body: Buffer;
  const server = await startChild([path.join(path.dirname(here), 'serve.js'), '--role=tfsvc', `--model=${model}`]);
  const address = `127.0.0.1:${server.grpcPort}`;
  try {
    body = grpcBodyOf(makeBody(model), await inputAlias(server.port!));
    console.log(`   a. the tfsvc gRPC server (fixtures/models/mnist), latency from the send to the answer:`);
    served = await alternate(address, body, rate, seconds, rounds, py.python);
    // What each client adds by itself: one call at a time, nothing else in flight, the same server.
    solo = await oneAtATime(address, body, 300);
  } finally {
    server.child.kill('SIGTERM');
  }
  // Each client's own floor: the same rate against the trivial server (part 1's: a fixed answer from pre-built frames),
  // so what remains is the client (and the machine) rather than the server.
  const trivial = await startChild([here, '--serve-trivial']);
  let floor: Rounds;
  try {
    console.log(`   b. floors: the same rate and body against the trivial server (trivial-h2-server.ts), latency from the send:`);
    floor = await alternate(`127.0.0.1:${trivial.grpcPort}`, body, rate, seconds, rounds, py.python);
  } finally {
    trivial.child.kill('SIGTERM');
  }
  console.log(`   one call at a time against the tfsvc server (300 each, medians): bench ${f3(solo.bench)} ms, grpc-js ${f3(solo.grpcjs)} ms: grpc-js's own cost adds ${f3(solo.grpcjs - solo.bench)} ms to each of its latencies`);
  const clients = py.python ? ['bench', 'grpc-js', 'python'] : ['bench', 'grpc-js'];
  for (const c of clients) console.log(`   floor (trivial server, medians of rounds) ${c.padEnd(8)} p50 ${f3(medianOf(floor[c]!.p50))} ms  p99 ${f3(medianOf(floor[c]!.p99))} ms`);
  const verdict = (name: string, ref: string): boolean => {
    const r = ratios(served, ref);
    const ok = within15(r.p50) && within15(r.p99);
    console.log(`   ratio bench / ${name}, send to answer (medians of rounds): P50 ${r.p50.toFixed(2)}, P99 ${r.p99.toFixed(2)} (goal: within 0.85..1.15): ${ok ? 'agree' : 'DO NOT agree'}`);
    // Extra, not the verdict: each client's latency less its own floor (what the server and the load add).
    const less = (p: 'p50' | 'p99') => {
      const [a, b] = [medianOf(served.bench![p]) - medianOf(floor.bench![p]), medianOf(served[ref]![p]) - medianOf(floor[ref]![p])];
      return a > 0 && b > 0 ? (a / b).toFixed(2) : 'n/a (a floor above its latency)';
    };
    console.log(`     (extra line, not the verdict: each client's latency less its floor on the trivial server, P50 ${less('p50')}, P99 ${less('p99')})`);
    if (ref === 'python') {
      // Extra, not the verdict: only the rounds in which both bench and the Python client held the rate.
      const keep = served.bench!.held.map((b, i) => b && served.python!.held[i]!);
      const pick = (xs: number[]) => xs.filter((_, i) => keep[i]);
      const n = keep.filter(Boolean).length;
      const sub = (p: 'p50' | 'p99') => (medianOf(pick(served.bench![p])) / medianOf(pick(served.python![p]))).toFixed(2);
      console.log(`     (extra line, not the verdict: rounds where both held the rate, ${n} of ${keep.length}${n ? `: P50 ${sub('p50')}, P99 ${sub('p99')}` : ''})`);
    }
    return ok;
  };
  const okJs = verdict('grpc-js', 'grpc-js');
  if (!py.python) {
    console.log(`   python-grpcio: SKIPPED (python3-grpcio not importable, see above); the verdict is grpc-js's`);
    return okJs;
  }
  // The exit code follows the python-grpcio reference, chosen beforehand as the leaner of the two (its floor on the
  // trivial server, printed above, is how a reader checks that).
  return verdict('python-grpcio', 'python');
}

async function main(): Promise<void> {
  if (args.includes('--serve-trivial')) {
    process.on('disconnect', () => process.exit(0));
    return serveTrivial();
  }
  process.on('SIGTERM', () => process.exit(0));
  pinSelf(0);
  console.log(`bench/grpc-client: ${pinNote()}. The machine may be shared: figures are noisy, compare the ratios.`);
  const part = arg('part', 0);
  let ok = true;
  if (part !== 2) ok = (await rateTest(arg('rate', 5000), arg('seconds', 3))) && ok;
  if (part !== 1) ok = (await agreementTest(arg('compare-rate', 500), arg('seconds', 3), arg('rounds', 2))) && ok;
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
