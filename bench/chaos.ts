// bench/chaos: the long version of the fault suite, against a real `tfsvc serve` child process on loopback:
//   1. malformed REST requests (truncated / garbage JSON, wrong dtypes and shapes, huge nesting, huge lists) and
//      malformed gRPC requests (random protobuf bytes, mutated valid messages, a value-list tensor claiming 2^40
//      elements), then valid requests that must be answered byte for byte as before the chaos;
//   2. a corrupt new version dropped into the model directory while valid requests run: it must never turn AVAILABLE
//      and no request on the old version may fail;
//   3. measured capacity (closed loop), then 5x that rate open loop: time to reject, goodput, TCP-level failures, and
//      P99 after the overload stops;
//   4. one huge body while other clients run at a steady rate: the largest stall they see;
//   5. SIGTERM at 400 req/s on keep-alive connections: requests sent before the signal that got no answer.
//   6. (with --big-valid-mb M) one valid :predict body of about M MB alone on the server: its answer and the server's
//      peak RSS growth while it is read, decoded and run.
// Prints one summary. Bounded in time (about two minutes; --quick: under one) and loopback only.
// Usage: node dist/bench/chaos.js [--model DIR] [--rows N] [--quick] [--only PHASES] [--queue N] [--huge predict|classify]
//                                 [--big-valid-mb M] [--malformed-rounds N] [--server-args "FLAGS"] [--server-env "K=V ..."]
//                                 [--server-node-args "FLAGS"] [--server-log FILE]
//   --server-env: the server's extra environment. By default it is the Docker image's (Dockerfile's ENV
//           GLIBC_TUNABLES, glibc's allocator setting; docs/serve.md "Memory"), as deployed; --server-env "" runs the
//           server with glibc's defaults.
//   --server-node-args "FLAGS": node flags for the server. By default the Docker image's (Dockerfile's ENV
//           TFSVC_NODE_FLAGS, V8's initial old-generation limit; docs/serve.md "Memory"); --server-node-args= for
//           none; give them along with others (e.g. --cpu-prof --cpu-prof-dir=D) to keep them.
//   DIR: a model base directory (default fixtures/models/mnist; ../shared/models/keras/mnist_cnn_keras3 for the CNN).
//   PHASES: comma-separated subset of malformed,swap,overload,huge,sigterm,bigvalid (default: all but bigvalid, plus
//           bigvalid when --big-valid-mb is given).
//   --queue N: serve with max_enqueued_batches N (a batching parameters file; max_batch_size 256), for overload.
//   --overload-grpc: the overload phase (capacity, 5x overload, recovery) sends gRPC Predict calls (tensor_content,
//           tfsvc's own HTTP/2 client, 16 connections) instead of REST.
//   --huge classify: the huge body is a :classify body of tf.Examples (decoded whole before its signature is checked)
//           instead of a :predict body malformed at its end.
import { spawn, type ChildProcess } from 'node:child_process';
import { arg, imageSetting, repoRootOf, serverNodeArgs } from './script-util.js';
import { onCore, pinNote, pinSelf } from './pin.js';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'undici';
import { protoRoot } from '../src/core/proto/schema.js';
import { Code, H2GrpcClient, type UnaryAnswer } from '../src/core/load/grpc-h2.js';
import { predictRequest } from '../src/core/load/grpc-request.js';
import type { Target } from '../src/core/load/target.js';

const root = repoRootOf(import.meta.url);


const quick = process.argv.includes('--quick');
const modelArg = path.resolve(root, arg('model', 'fixtures/models/mnist')!);
const ROWS = Number(arg('rows', '64'));
const N_REST = quick ? 2000 : 10_000;
const N_GRPC = quick ? 600 : 3000;
const QUEUE = arg('queue');
const OVERLOAD_GRPC = process.argv.includes('--overload-grpc');
const MALFORMED_ROUNDS = Math.max(1, Number(arg('malformed-rounds', '1')));
const HUGE_KIND = arg('huge', 'predict')!;
const BIG_VALID_MB = Number(arg('big-valid-mb', '0'));
const PHASES = new Set((arg('only') ?? `malformed,swap,overload,huge,sigterm${BIG_VALID_MB > 0 ? ',bigvalid' : ''}`).split(','));
const phase = (p: string) => PHASES.has(p);

const SERVER_ENV = Object.fromEntries(
  (arg('server-env') ?? imageSetting(root, 'GLIBC_TUNABLES'))
    .split(' ')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const SERVER_NODE_ARGS = serverNodeArgs(root);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- the server under test -----------------------------------------------------------------------------------------

interface Server {
  child: ChildProcess;
  rest: number;
  grpc: number;
  out: string;
  exit: Promise<number | null>;
}

let crashes = 0;

/** A free loopback port (--port=0 disables gRPC, as in TF Serving, so gRPC needs a real one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startServer(base: string, name: string): Promise<Server> {
  const extra: string[] = [];
  if (QUEUE !== undefined) {
    const file = path.join(base, '..', `${path.basename(base)}.batching`);
    writeFileSync(file, `max_batch_size { value: 256 }\nbatch_timeout_micros { value: 0 }\nmax_enqueued_batches { value: ${Number(QUEUE)} }\n`);
    extra.push('--enable_batching', `--batching_parameters_file=${file}`);
  }
  // The server's own access log: its time to reject (from the request's head to the 503 being written) tells the
  // server's share of what the client measures (a client on the same 2 cores also waits for its own event loop).
  if (phase('overload')) extra.push('--access-log', '--log-format=json');
  // A 240 MB body takes longer than the default 30 s deadline to read, decode and run on a loaded 2-core machine.
  if (phase('bigvalid')) extra.push('--rest_api_timeout_in_ms=600000');
  // --server-args "...": more `tfsvc serve` flags (e.g. --worker-niceness=0, to compare).
  extra.push(...(arg('server-args') ?? '').split(' ').filter(Boolean));
  // Pinned to core 1 (this generator to core 0, bench/pin.ts; --no-pin to turn off): at 5x overload the generator
  // writes ~180 MB/s of bodies, and on a 2-core machine it would otherwise take the server's CPU and its goodput.
  const argv = onCore(1, [process.execPath, ...SERVER_NODE_ARGS, path.join(root, 'bin/tfsvc'), 'serve', base, `--model_name=${name}`, '--rest_api_port=0', `--port=${await freePort()}`, '--host=127.0.0.1', '--file_system_poll_wait_seconds=1', ...extra]);
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...SERVER_ENV },
  });
  const s: Server = { child, rest: 0, grpc: 0, out: '', exit: new Promise((r) => child.on('exit', (code) => r(code))) };
  child.stdout!.on('data', (d: Buffer) => (s.out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (s.out += d.toString()));
  const end = Date.now() + 120_000;
  while (!/AVAILABLE at/.test(s.out)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`server did not start: ${s.out}`);
    await sleep(50);
  }
  s.rest = Number(/REST API listening on [\d.]+:(\d+)/.exec(s.out)![1]);
  s.grpc = Number(/gRPC API listening on [\d.]+:(\d+)/.exec(s.out)![1]);
  return s;
}

function rssMiB(pid: number): number {
  if (!existsSync(`/proc/${pid}/status`)) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// --- clients -------------------------------------------------------------------------------------------------------

interface Answer {
  status: number; // 0: transport failure
  text: string;
  ms: number;
  error?: string;
}

async function post(pool: Pool, urlPath: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const t = performance.now();
  try {
    const r = await pool.request({ path: urlPath, method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const text = await r.body.text();
    return { status: r.statusCode, text, ms: performance.now() - t };
  } catch (err) {
    return { status: 0, text: '', ms: performance.now() - t, error: (err as Error).message };
  }
}

function grpcRaw(client: grpc.Client, method: string, bytes: Buffer): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/tensorflow.serving.PredictionService/${method}`, (b: Buffer) => b, (b: Buffer) => b, bytes, { deadline: Date.now() + 30_000 }, (err) =>
      resolve({ code: err?.code ?? 0, details: err?.details ?? '' }),
    );
  });
}

/**
 * One keep-alive HTTP/1.1 connection written by hand, so the bench knows when a request is on the wire (a pooled
 * client may hold a request back in its own queue, and that request was never sent).
 */
class KeepAlive {
  private readonly socket: net.Socket;
  private buf = '';
  private waiting: ((a: Answer) => void) | undefined;
  private started = 0;
  busy = false;
  closed = false;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (d) => {
      this.buf += d.toString('latin1');
      this.parse();
    });
    const end = (why: string) => {
      this.closed = true;
      this.finish({ status: 0, text: '', ms: performance.now() - this.started, error: why });
    };
    this.socket.on('error', (e) => end(e.message));
    this.socket.on('close', () => end('closed before the answer'));
  }
  ready(): Promise<void> {
    return new Promise((r) => (this.socket.connecting ? this.socket.once('connect', () => r()) : r()));
  }
  /** Writes one request now (the caller checks `busy` and `closed` first). */
  post(urlPath: string, body: string): Promise<Answer> {
    this.busy = true;
    this.started = performance.now();
    this.socket.write(`POST ${urlPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return new Promise((r) => (this.waiting = r));
  }
  private parse(): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.slice(0, end);
    const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buf.length < end + 4 + len) return;
    const text = this.buf.slice(end + 4, end + 4 + len);
    this.buf = this.buf.slice(end + 4 + len);
    if (/connection: *close/i.test(head)) this.closed = true;
    this.finish({ status: Number(head.split(' ')[1]), text, ms: performance.now() - this.started });
  }
  private finish(a: Answer): void {
    const w = this.waiting;
    this.waiting = undefined;
    this.busy = false;
    w?.(a);
  }
  destroy(): void {
    this.socket.destroy();
  }
}

/** Runs `n` tasks with at most `c` at once. */
async function limited(n: number, c: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: c }, async () => {
    while (next < n) await task(next++);
  }));
}

const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!);

// --- inputs --------------------------------------------------------------------------------------------------------

let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const ri = (n: number) => Math.floor(rnd() * n);

/** A valid instance for an input shape like [-1, 28, 28] or [-1, 28, 28, 1]. */
function instance(shape: number[], salt: number): unknown {
  const inner = shape.slice(1);
  const build = (dims: number[], k: number): unknown =>
    dims.length === 0 ? (((k * 31 + salt * 7) % 10) / 10 + 0.05) : Array.from({ length: dims[0]! }, (_, i) => build(dims.slice(1), k * 29 + i));
  return build(inner, salt);
}

function malformedRest(valid: string, shape: number[]): string | Buffer {
  switch (ri(12)) {
    case 0: return valid.slice(0, ri(valid.length));
    case 1: return Buffer.from(Array.from({ length: 1 + ri(300) }, () => ri(256)));
    case 2: return valid.replace(/0\.\d+/g, () => (rnd() < 0.5 ? '"x"' : 'true'));
    case 3: return JSON.stringify({ instances: [instance([-1, ...shape.slice(2)], 1)] }); // one dimension short
    case 4: return JSON.stringify({ instances: [[[[0.0]]]] });
    case 5: return JSON.stringify({ instances: [instance([-1, ...shape.slice(1).map((d) => d + 1)], 2)] });
    case 6: return '['.repeat(5000 + ri(50_000)) + ']'.repeat(ri(10));
    case 7: return JSON.stringify({ inputs: { nope: [1, 2, 3] } });
    case 8: return JSON.stringify({ instances: [] });
    case 9: return JSON.stringify({ signature_name: 'x'.repeat(ri(5000)), instances: [1] });
    case 10: return JSON.stringify({ instances: Array.from({ length: 2000 + ri(20_000) }, () => 1) });
    default: return valid.replace(/\]/, ri(2) ? '],' : '}');
  }
}

// --- phases --------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const versions = readdirSync(modelArg).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(a) - Number(b));
  const newest = versions[versions.length - 1]!;
  const base = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-chaos-'));
  cpSync(path.join(modelArg, newest), path.join(base, '1'), { recursive: true });
  const name = 'chaos';
  const log: string[] = [];
  const say = (s: string) => {
    log.push(s);
    console.log(s);
  };
  pinSelf(0);
  say(pinNote());
  let server = await startServer(base, name);
  let pool: Pool;
  const restart = async () => {
    crashes++;
    const tail = server.out.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
    say(`  server died (exit ${server.child.exitCode}: ${tail}); restarting`);
    server = await startServer(base, name);
    pool = new Pool(`http://127.0.0.1:${server.rest}`, { connections: 64 });
  };
  /** Restarts a crashed server between phases (each crash is counted). */
  const alive = async () => {
    await sleep(200);
    if (server.child.exitCode !== null || server.child.signalCode !== null) await restart();
  };
  try {
    const meta = JSON.parse((await (await fetch(`http://127.0.0.1:${server.rest}/v1/models/${name}/metadata`)).text()));
    const sig = meta.metadata.signature_def.signature_def.serving_default;
    const alias = Object.keys(sig.inputs)[0]!;
    const shape: number[] = sig.inputs[alias].tensor_shape.dim.map((d: { size: string }) => Number(d.size));
    const goodBodies = Array.from({ length: 8 }, (_, k) => JSON.stringify({ instances: Array.from({ length: ROWS }, (_, r) => instance(shape, k * 100 + r)) }));
    // Sent as bytes encoded once: at 5x overload the generator sends ~150 MB/s, and encoding each string again per
    // request took the generator's core (its own lag then showed up as the server's time to reject).
    const goodBuffers = goodBodies.map((b) => Buffer.from(b));
    const urlPath = `/v1/models/${name}:predict`;
    pool = new Pool(`http://127.0.0.1:${server.rest}`, { connections: 64, pipelining: 1 });
    const expected: string[] = [];
    for (const b of goodBodies) expected.push((await post(pool, urlPath, b)).text);
    const rssStart = rssMiB(server.child.pid!);
    let rssAfterMalformed = NaN;
    say(`chaos: ${path.relative(root, modelArg) || modelArg} version ${newest}, input "${alias}" [${shape.join(',')}], ${ROWS} rows per valid request; RSS at start ${rssStart.toFixed(0)} MiB`);
    say(`server environment: ${Object.keys(SERVER_ENV).length ? Object.entries(SERVER_ENV).map(([k, v]) => `${k}=${v}`).join(' ') : 'as this process (glibc allocator defaults unless GLIBC_TUNABLES is set)'}${arg('server-env') === undefined ? ' (the Docker image\'s; --server-env "" for none)' : ''}`);
    say(`server node flags: ${SERVER_NODE_ARGS.join(' ') || 'none'}${arg('server-node-args') === undefined ? ' (the Docker image\'s TFSVC_NODE_FLAGS; --server-node-args= for none)' : ''}`);
    say('(shared, noisy machine this session: read times as indications, not as properties of tfsvc)');

    // Figures of the phases that run (NaN / 0 for the others, shown as "-").
    let sent = 0;
    let fiveXX = 0;
    let overloaded = 0; // 503: turned away by admission control (the chaos itself overloads the server), not a verdict on the input
    let nonJson = 0;
    let gSent = 0;
    let gInternal = 0;
    let wrong = 0;
    let swapFailed = 0;
    let swapSent = 0;
    let v2Available = false;
    let done = 0;
    let capacity = NaN;
    let capLat: number[] = [];
    let over = { out: [] as (Answer & { at: number })[], seconds: NaN };
    let ok: Answer[] = [];
    let rejected: Answer[] = [];
    let tcp = 0;
    let after = { out: [] as (Answer & { at: number })[], seconds: NaN };
    let before = { out: [] as (Answer & { at: number })[], seconds: NaN };
    let duringRes = { out: [] as (Answer & { at: number })[], seconds: NaN };
    let duringOk: number[] = [];
    let p99Before = NaN;
    let results: (Answer & { at: number })[] = [];
    let lost: Answer[] = [];
    let bigGrowth = NaN;
    let serverRejectMs: number[] = [];
    let gClient: grpc.Client | undefined;
    // --overload-grpc: the same rows as PredictRequests; an answer's status as REST's (OK 200, refusals 503,
    // transport failures 0).
    const grpcBodies = OVERLOAD_GRPC
      ? goodBodies.map((b) => {
          const rows = (JSON.parse(b) as { instances: unknown[] }).instances;
          const data = Float32Array.from(rows.flat(Infinity) as number[]);
          return predictRequest({ model: name } as Target, undefined, { [alias]: { dtype: 'DT_FLOAT', shape: [rows.length, ...shape.slice(1)], data } });
        })
      : [];
    const grpcPredict = (client: H2GrpcClient, body: Buffer): Promise<Answer> => {
      const t = performance.now();
      return client.unary('/tensorflow.serving.PredictionService/Predict', body).then((a: UnaryAnswer) => ({
        status: a.failure ? 0 : a.code === Code.OK ? 200 : a.code === Code.UNAVAILABLE || a.code === Code.RESOURCE_EXHAUSTED ? 503 : 1000 + a.code,
        text: a.details,
        ms: performance.now() - t,
      }));
    };
    const grpcClient = (sessions: number) => new H2GrpcClient({ address: `127.0.0.1:${server.grpc}`, sessions, timeoutMs: 30_000 });
    /** One valid request, the `i`-th of the fixed set, on `p` (REST) or `g` (gRPC). */
    const sendGood = (i: number, p: Pool, g?: H2GrpcClient): Promise<Answer> => (g ? grpcPredict(g, grpcBodies[i % 8]!) : post(p, urlPath, goodBuffers[i % 8]!));
    const openLoop = async (rate: number, ms: number, p: Pool, g?: H2GrpcClient) => {
      const out: (Answer & { at: number })[] = [];
      const inflight: Promise<void>[] = [];
      const t0 = performance.now();
      let i = 0;
      while (performance.now() - t0 < ms) {
        const due = Math.floor(((performance.now() - t0) / 1000) * rate);
        for (; i < due; i++) {
          const at = performance.now();
          inflight.push(sendGood(i, p, g).then((a) => void out.push({ ...a, at })));
        }
        await sleep(2);
      }
      await Promise.all(inflight);
      return { out, seconds: (performance.now() - t0) / 1000 };
    };
    /** Closed-loop capacity over `ms` on 8 connections (the overload and huge-body phases are paced from it). */
    const measureCapacity = async (ms: number, g?: H2GrpcClient) => {
      done = 0;
      capLat = [];
      const capEnd = Date.now() + ms;
      const capStart = performance.now();
      await limited(1e9, 8, async () => {
        if (Date.now() > capEnd) throw Object.assign(new Error('done'), { done: true });
        const a = await sendGood(ri(8), pool, g);
        if (a.status === 200) {
          done++;
          capLat.push(a.ms);
        }
      }).catch(() => undefined);
      capacity = done / ((performance.now() - capStart) / 1000);
    };

    if (phase('malformed')) {
      // 1. malformed REST + gRPC, then valid answered exactly
      let transport = 0;
      const fiveSamples = new Set<string>();
      // --malformed-rounds N: the whole malformed batch N times, RSS after each (a leak grows every round; a working
      // set reaches a plateau).
      for (let round = 1; round <= MALFORMED_ROUNDS; round++) {
      await limited(N_REST, 16, async () => {
        const a = await post(pool, urlPath, malformedRest(goodBodies[ri(8)]!, shape));
        sent++;
        if (a.status === 0) transport++;
        else if (a.status === 503) overloaded++;
        else if (a.status >= 500) fiveXX++;
        if (a.status >= 400) {
          try {
            if (typeof JSON.parse(a.text).error !== 'string') nonJson++;
          } catch {
            nonJson++;
          }
        }
        if (a.status >= 500 && a.status !== 503 && fiveSamples.size < 4) fiveSamples.add(`${a.status} ${a.text.slice(0, 160)}`);
        if (server.child.exitCode !== null) await restart();
      });
      say(`malformed REST: ${sent} sent, ${fiveXX} 5xx other than 503, ${overloaded} 503 (overload, retry later), ${nonJson} non-JSON error bodies, ${transport} transport failures, crashes so far ${crashes}`);
      for (const f of fiveSamples) say(`  e.g. ${f}`);
      await alive();

      const servingProto = protoRoot('tensorflow_serving.proto');
      const Predict = servingProto.lookupType('tensorflow.serving.PredictRequest');
      const validMsg = Buffer.from(Predict.encode(Predict.fromObject({
        modelSpec: { name },
        inputs: { [alias]: { dtype: 'DT_FLOAT', tensorShape: { dim: [1, ...shape.slice(1)].map((size) => ({ size })) }, floatVal: Array.from({ length: shape.slice(1).reduce((a, b) => a * b, 1) }, () => 0.5) } },
      })).finish());
      const hugeShape = Buffer.from(Predict.encode(Predict.fromObject({ modelSpec: { name }, inputs: { [alias]: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 2 ** 40 }] }, floatVal: [1] } } })).finish());
      gClient?.close();
      gClient = new grpc.Client(`127.0.0.1:${server.grpc}`, grpc.credentials.createInsecure());
      await limited(N_GRPC, 8, async (i) => {
        let msg: Buffer;
        const k = i === 0 ? 0 : 1 + ri(4);
        if (k === 0) msg = hugeShape;
        else if (k === 1) msg = Buffer.from(Array.from({ length: 1 + ri(400) }, () => ri(256)));
        else if (k === 2) {
          msg = Buffer.from(validMsg);
          for (let j = 0; j < 1 + ri(8); j++) msg[ri(msg.length)] = ri(256);
        } else if (k === 3) msg = validMsg.subarray(0, ri(validMsg.length));
        else msg = Buffer.from(Predict.encode(Predict.fromObject({ modelSpec: { name }, inputs: { [alias]: { dtype: ['DT_STRING', 'DT_INT64', 'DT_HALF', 'DT_FLOAT'][ri(4)], tensorShape: { dim: [{ size: ri(2 ** 30) }, { size: ri(100) }] }, floatVal: [1, 2] } } })).finish());
        const r = await grpcRaw(gClient!, 'Predict', msg);
        gSent++;
        if (r.code === grpc.status.INTERNAL || r.code === grpc.status.UNKNOWN || r.code === grpc.status.DATA_LOSS) gInternal++;
        if (server.child.exitCode !== null) {
          await restart();
          gClient = new grpc.Client(`127.0.0.1:${server.grpc}`, grpc.credentials.createInsecure());
        }
      });
      say(`malformed gRPC: ${gSent} sent (the first: a 2^40-element float_val tensor), ${gInternal} INTERNAL/UNKNOWN, crashes so far ${crashes}`);
      if (MALFORMED_ROUNDS > 1) say(`RSS after malformed round ${round}: ${rssMiB(server.child.pid!).toFixed(0)} MiB`);
      }

      await sleep(3000); // a request that kills the server may take seconds to do it
      await alive();
      for (let k = 0; k < 200; k++) {
        const a = await post(pool, urlPath, goodBodies[k % 8]!);
        if (a.status !== 200 || a.text !== expected[k % 8]) wrong++;
      }
      say(`valid after chaos: 200 sent, ${wrong} not answered exactly as before`);
      const rssRightAfter = rssMiB(server.child.pid!);
      // "Back within 20%": the heaps that grew while the requests were in flight are given back once the server is idle
      // (V8's memory reducer runs some seconds after allocation stops), so RSS is read again after 10 idle seconds.
      await sleep(quick ? 5000 : 10_000);
      rssAfterMalformed = rssMiB(server.child.pid!);
      say(`RSS around the malformed requests: ${rssStart.toFixed(0)} MiB before, ${rssRightAfter.toFixed(0)} MiB right after, ${rssAfterMalformed.toFixed(0)} MiB after ${quick ? 5 : 10} s idle (${(((rssAfterMalformed - rssStart) / rssStart) * 100).toFixed(0)}%)`);

    }
    await alive();
    if (phase('swap')) {
      // 2. corrupt new version while valid requests run
      const v2 = path.join(base, '2');
      cpSync(path.join(base, '1'), v2, { recursive: true });
      const victim = existsSync(path.join(v2, 'variables')) ? readdirSync(path.join(v2, 'variables')).filter((f) => f.includes('.data-')).map((f) => path.join(v2, 'variables', f))[0] : undefined;
      const file = victim ?? path.join(v2, 'saved_model.pb');
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      writeFileSync(file, bytes);
      const swapEnd = Date.now() + (quick ? 4000 : 8000);
      await Promise.all([
        limited(1e9, 4, async () => {
          if (Date.now() > swapEnd) throw Object.assign(new Error('done'), { done: true });
          const k = ri(8);
          const a = await post(pool, urlPath, goodBodies[k]!);
          swapSent++;
          if (a.status !== 200 || a.text !== expected[k]) swapFailed++;
        }).catch((e) => {
          if (!(e as { done?: boolean }).done) throw e;
        }),
        (async () => {
          while (Date.now() < swapEnd) {
            const st = await fetch(`http://127.0.0.1:${server.rest}/v1/models/${name}`).then((r) => r.json()).catch(() => undefined) as { model_version_status?: { version: string; state: string }[] } | undefined;
            if (st?.model_version_status?.some((s) => s.version === '2' && s.state === 'AVAILABLE')) v2Available = true;
            await sleep(100);
          }
        })(),
      ]);
      rmSync(v2, { recursive: true, force: true });
      say(`corrupt version 2 (${path.relative(base, file)}, one byte flipped): AVAILABLE ${v2Available ? 'YES' : 'never'}; ${swapFailed} of ${swapSent} requests on the old version failed during the swap`);
      await sleep(1500); // the poll notices version 2 is gone

    }
    await alive();
    if (phase('overload')) {
      // 3. capacity, 5x overload, recovery
      const gCap = OVERLOAD_GRPC ? grpcClient(1) : undefined;
      const gBig = OVERLOAD_GRPC ? grpcClient(16) : undefined;
      await measureCapacity(quick ? 2000 : 4000, gCap);
      const big = new Pool(`http://127.0.0.1:${server.rest}`, { connections: 1024 });
      // Connections opened before the clock starts (a cheap status GET on each; gRPC: a metadata call on each of its
      // 16), so that connection set-up is not counted as time to reject.
      if (gBig) {
        const meta = Buffer.from(protoRoot('tensorflow_serving.proto').lookupType('tensorflow.serving.GetModelMetadataRequest').encode({ modelSpec: { name }, metadataField: ['signature_def'] }).finish());
        await Promise.all(Array.from({ length: 64 }, () => gBig.unary('/tensorflow.serving.PredictionService/GetModelMetadata', meta)));
      } else await Promise.all(Array.from({ length: 1024 }, () => big.request({ path: `/v1/models/${name}`, method: 'GET' }).then((r) => r.body.dump(), () => undefined)));
      const logFrom = server.out.length;
      over = await openLoop(capacity * 5, quick ? 3000 : 5000, big, gBig);
      serverRejectMs = server.out.slice(logFrom).split('\n').flatMap((l) => {
        try {
          const e = JSON.parse(l) as { status?: number; durationMs?: number };
          return e.status === 503 && typeof e.durationMs === 'number' ? [e.durationMs] : [];
        } catch {
          return [];
        }
      });
      ok = over.out.filter((a) => a.status === 200);
      rejected = over.out.filter((a) => a.status === 503);
      tcp = over.out.filter((a) => a.status === 0).length;
      after = await openLoop(capacity * 0.5, quick ? 3000 : 5000, pool, gCap);
      const afterOk = after.out.filter((a) => a.status === 200);
      const recovery = after.out.filter((a) => a.at - after.out[0]!.at > 0 && a.status === 200);
      await gCap?.close();
      await gBig?.close();
      say(`capacity${OVERLOAD_GRPC ? ' (gRPC Predict)' : ''}: ${capacity.toFixed(0)} req/s (closed loop, 8 ${OVERLOAD_GRPC ? 'concurrent calls' : 'connections'}, P99 ${pct(capLat, 99).toFixed(1)} ms)`);
      say(`5x overload (${(capacity * 5).toFixed(0)} req/s for ${over.seconds.toFixed(1)} s, ${OVERLOAD_GRPC ? 'gRPC on 16 HTTP/2 connections' : '1024 connections'}): ${over.out.length} sent, ${ok.length} ok, ${rejected.length} rejected 503 (time to reject p99 ${pct(rejected.map((a) => a.ms), 99).toFixed(1)} ms), ${tcp} TCP-level failures, other ${over.out.length - ok.length - rejected.length - tcp}; goodput ${(ok.length / over.seconds).toFixed(0)} req/s = ${((ok.length / over.seconds / capacity) * 100).toFixed(0)}% of capacity`);
      say(`  at the client: time to reject p50 ${pct(rejected.map((a) => a.ms), 50).toFixed(1)} p75 ${pct(rejected.map((a) => a.ms), 75).toFixed(1)} p90 ${pct(rejected.map((a) => a.ms), 90).toFixed(1)} p95 ${pct(rejected.map((a) => a.ms), 95).toFixed(1)}; ok ms p50 ${pct(ok.map((a) => a.ms), 50).toFixed(1)} p99 ${pct(ok.map((a) => a.ms), 99).toFixed(1)}`);
      say(`after the overload (0.5x capacity): P99 ${pct(afterOk.map((a) => a.ms), 99).toFixed(1)} ms vs ${pct(capLat, 99).toFixed(1)} ms at capacity; ${after.out.length - afterOk.length} not ok; ${recovery.length} answered`);
      await big.close();

    }
    await alive();
    if (phase('huge')) {
      // 4. one huge body while others run at a steady rate
      if (!Number.isFinite(capacity)) await measureCapacity(quick ? 2000 : 4000);
      const row = JSON.stringify(instance(shape, 3));
      const hugeBytes = quick ? 15e6 : 50e6; // about 50 MB (15 MB with --quick)
      let hugeBody: string;
      let hugePath = urlPath;
      let hugeWhat: string;
      if (HUGE_KIND === 'classify') {
        // A well-formed :classify body: every example is decoded into a tf.Example before the signature is checked.
        const example = `{"x": ${JSON.stringify((instance(shape, 3) as unknown[]).flat(Infinity))}}`;
        hugeBody = `{"examples": [${Array.from({ length: Math.ceil(hugeBytes / example.length) }, () => example).join(',')}]}`;
        hugePath = urlPath.replace(/:predict$/, ':classify');
        hugeWhat = ':classify body of tf.Examples';
      } else {
        hugeBody = `{"instances": [${Array.from({ length: Math.ceil(hugeBytes / row.length) }, () => row).join(',')}]`; // no closing brace: a parse error at the very end
        hugeWhat = ':predict body, malformed at its end';
      }
      // Encoded before the window: encoding a 50 MB string on the way out blocked this process's event loop (the
      // other clients' timer) for about 100 ms, which the figure then counted as the server's stall.
      const hugeBuf = Buffer.from(hugeBody);
      const steady = capacity * 0.3;
      before = await openLoop(steady, 2000, pool);
      const side = new Pool(`http://127.0.0.1:${server.rest}`, { connections: 2 });
      // The bench's own event-loop lag in this window: a stall on the client side is not the server's.
      let clientLag = 0;
      let tick = performance.now();
      const lagTimer = setInterval(() => {
        const now = performance.now();
        clientLag = Math.max(clientLag, now - tick - 10);
        tick = now;
      }, 10);
      const during = openLoop(steady, 6000, pool);
      await sleep(500);
      const hugeAns = await post(side, hugePath, hugeBuf);
      duringRes = await during;
      clearInterval(lagTimer);
      await side.close();
      p99Before = pct(before.out.filter((a) => a.status === 200).map((a) => a.ms), 99);
      duringOk = duringRes.out.filter((a) => a.status === 200).map((a) => a.ms);
      say(`huge body (${(hugeBody.length / 1e6).toFixed(0)} MB ${hugeWhat}): answered ${hugeAns.status} in ${hugeAns.ms.toFixed(0)} ms; other clients at ${steady.toFixed(0)} req/s: P99 ${pct(duringOk, 99).toFixed(1)} ms (max ${Math.max(...duringOk).toFixed(1)} ms) vs ${p99Before.toFixed(1)} ms before: max stall seen ${(Math.max(...duringOk) - p99Before).toFixed(1)} ms (the bench's own event loop lagged up to ${clientLag.toFixed(0)} ms)`);

      say(`RSS: start ${rssStart.toFixed(0)} MiB, now ${rssMiB(server.child.pid!).toFixed(0)} MiB`);

    }
    await alive();
    if (phase('bigvalid')) {
      // 6. One valid :predict body of about BIG_VALID_MB MB, alone: rows of long-digit values (at most 15,000 rows, so
      // that it fits the default batch queue) and the server's peak RSS growth while it is read, decoded and run
      // (VmHWM after resetting it through /proc/PID/clear_refs; else the largest of samples every 20 ms).
      const inner = shape.slice(1).reduce((a, b) => a * b, 1);
      const rows = Math.min(15_000, Math.max(1, Math.round((BIG_VALID_MB * 1e6) / (inner * 8))));
      const digits = Math.max(1, Math.ceil((BIG_VALID_MB * 1e6) / (rows * inner)) - 3);
      const value = (k: number) => `0.${String(k % 10)}${'3'.repeat(digits - 1)}`;
      const flatRow = (r: number) => Array.from({ length: inner }, (_, k) => value(r + k)).join(',');
      const nest = (flat: string) => {
        // Re-nest a flat row into the input's inner dimensions (e.g. [28,28] or [28,28,1]).
        let parts = flat.split(',');
        for (const d of shape.slice(2).reverse()) {
          const grouped: string[] = [];
          for (let i = 0; i < parts.length; i += d) grouped.push(`[${parts.slice(i, i + d).join(',')}]`);
          parts = grouped;
        }
        return `[${parts.join(',')}]`;
      };
      const rowText = Array.from({ length: 10 }, (_, r) => nest(flatRow(r)));
      const bigBody = Buffer.from(`{"instances": [${Array.from({ length: rows }, (_, r) => rowText[r % 10]).join(',')}]}`);
      const pid = server.child.pid!;
      let hwmReset = false;
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
        hwmReset = true;
      } catch {
        // not Linux, or not allowed: sample instead
      }
      const rssBefore = rssMiB(pid);
      let sampled = rssBefore;
      const sampler = setInterval(() => (sampled = Math.max(sampled, rssMiB(pid))), 20);
      const bigPool = new Pool(`http://127.0.0.1:${server.rest}`, { connections: 1, bodyTimeout: 300_000, headersTimeout: 300_000 });
      const bigAns = await post(bigPool, urlPath, bigBody);
      clearInterval(sampler);
      await bigPool.close();
      const hwm = hwmReset ? Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024 : NaN;
      const peak = Number.isFinite(hwm) ? hwm : sampled;
      bigGrowth = peak - rssBefore;
      say(`big valid body (${(bigBody.length / 1e6).toFixed(0)} MB, ${rows} rows): answered ${bigAns.status}${bigAns.status === 200 ? '' : ` ${JSON.stringify(bigAns.text.slice(0, 160))}`} in ${bigAns.ms.toFixed(0)} ms; RSS ${rssBefore.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB (${hwmReset ? 'VmHWM' : 'sampled'}): growth ${bigGrowth.toFixed(0)} MiB, ${(bigGrowth / (bigBody.length / 2 ** 20)).toFixed(1)}x the body; ${rssMiB(pid).toFixed(0)} MiB after`);
    }
    await alive();
    const rssEnd = rssMiB(server.child.pid!); // before SIGTERM ends the server
    if (phase('sigterm')) {
      // 5. SIGTERM at 400 req/s, on 64 keep-alive connections opened beforehand. A request counts as sent when it was
      // written to a connection; one due while every connection is busy is skipped (counted, never sent).
      const conns = Array.from({ length: 64 }, () => new KeepAlive(server.rest));
      await Promise.all(conns.map((c) => c.ready()));
      results = [];
      const inflight: Promise<void>[] = [];
      const t0 = performance.now();
      let signalAt = Infinity;
      let i = 0;
      let skipped = 0;
      let rr = 0;
      const smallBody = JSON.stringify({ instances: [instance(shape, 5)] });
      while (performance.now() - t0 < 3000) {
        const due = Math.floor(((performance.now() - t0) / 1000) * 400);
        for (; i < due; i++) {
          let c: KeepAlive | undefined;
          for (let k = 0; k < conns.length && !c; k++) {
            const cand = conns[(rr + k) % conns.length]!;
            if (!cand.busy && !cand.closed) c = cand;
          }
          rr++;
          if (!c) {
            skipped++;
            continue;
          }
          const at = performance.now();
          inflight.push(c.post(urlPath, smallBody).then((a) => void results.push({ ...a, at })));
        }
        if (signalAt === Infinity && performance.now() - t0 > 2000) {
          signalAt = performance.now();
          server.child.kill('SIGTERM');
        }
        await sleep(2);
      }
      await Promise.all(inflight);
      const code = await Promise.race([server.exit, sleep(40_000).then(() => 'timeout')]);
      for (const c of conns) c.destroy();
      const beforeSig = results.filter((r) => r.at < signalAt);
      lost = beforeSig.filter((r) => r.status !== 200);
      say(`SIGTERM at 400 req/s on 64 keep-alive connections: ${beforeSig.length} sent before the signal, ${lost.length} lost${lost.length ? ` (${[...new Set(lost.map((l) => l.error ?? l.status))].slice(0, 3).join('; ')})` : ''}; ${results.length - beforeSig.length} sent after it; ${skipped} not sent (every connection busy); exit code ${code}`);
      await pool.close().catch(() => undefined);
      gClient?.close();
    }
    if (!phase('sigterm')) await pool.close().catch(() => undefined);
    const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
    console.log('\nsummary');
    console.log(`  requests sent          REST malformed ${sent}, gRPC malformed ${gSent}, valid/overload/drain ${200 + swapSent + done + over.out.length + after.out.length + before.out.length + duringRes.out.length + results.length}`);
    console.log(`  crashes                ${crashes}`);
    console.log(`  5xx on bad input       REST ${fiveXX} (plus ${overloaded} 503 overload refusals), gRPC INTERNAL/UNKNOWN ${gInternal}`);
    console.log(`  non-JSON error bodies  ${nonJson}`);
    console.log(`  lost good requests     after chaos ${wrong}, during the corrupt swap ${swapFailed}, before SIGTERM ${lost.length}`);
    console.log(`  corrupt version        ${v2Available ? 'became AVAILABLE' : 'never AVAILABLE'}`);
    const early = serverRejectMs.filter((ms) => ms < 1).length;
    console.log(`  time to reject p99     ${fmt(pct(rejected.map((a) => a.ms), 99))} ms at the client${OVERLOAD_GRPC ? ' (gRPC; the access log covers REST only)' : `, ${fmt(pct(serverRejectMs, 99))} ms in the server (access log; p50 ${fmt(pct(serverRejectMs, 50), 2)} ms; ${early} of ${serverRejectMs.length} refused within 1 ms, before the body)`}`);
    console.log(`  goodput at 5x          ${fmt((ok.length / over.seconds / capacity) * 100, 0)}% of measured capacity (${fmt(capacity, 0)} req/s); TCP-level failures ${tcp}`);
    console.log(`  max stall (huge body)  ${fmt(Math.max(...duringOk) - p99Before)} ms`);
    console.log(`  big valid body         ${BIG_VALID_MB > 0 ? `${BIG_VALID_MB} MB: peak RSS growth ${fmt(bigGrowth, 0)} MiB` : '-'}`);
    console.log(`  RSS                    ${rssStart.toFixed(0)} -> ${fmt(rssAfterMalformed, 0)} MiB around the malformed requests (${fmt(((rssAfterMalformed - rssStart) / rssStart) * 100, 0)}%, goal within 20%), ${fmt(rssEnd, 0)} MiB at the end`);
    console.log('  (shared, noisy machine this session)');
  } finally {
    // A graceful stop first (a --cpu-prof server writes its profile on exit), then a hard one.
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await Promise.race([server.exit, sleep(15_000)]);
    }
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    // --server-log FILE: the (last) server's stdout and stderr, e.g. with --server-node-args "... --trace-gc".
    const log = arg('server-log');
    if (log) writeFileSync(log, server.out);
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
