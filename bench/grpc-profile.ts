// Where the tfsvc gRPC server's main thread spends its time (issue 9 item 1, the input for the server change): runs
// `tfsvc serve` (bench/serve.js --role=tfsvc) under `node --cpu-prof`, sends a constant rate of single-image Predict
// calls with bench's gRPC client, stops the server (SIGTERM writes the profile) and splits the main thread's samples:
//   request decode    grpc-js requestDeserialize: protobufjs decode + toObject into plain objects, or (Predict, since
//                     issue 9) wire/predict-request-reader.ts' readPredictRequest walking the message
//   to tensors        tensorProtoToHost: plain TensorProto objects into typed arrays, or wireTensorToHost: values
//                     copied out of the message into typed arrays
//   request check     the alias rules and the request-vs-signature check (predict-proto, predict-rules, signature-check)
//   reply encode      responseSerialize (fromObject + encode) and hostToTensorProtoField (typed arrays → value lists),
//                     or the PredictResponse written from the typed arrays (predict-response-writer.ts)
//   batching/engine   src/core/serving (batcher, manager) and src/core/engine on this thread: queueing, hand-off
//   gRPC transport    every other frame under @grpc/grpc-js, tfsvc's own h2 server (serving/grpc/h2-*) or node's
//                     http2: call handling, framing, metadata, status
//   GC, other         garbage collection; the rest (timers, the wasm/tfjs helpers, ...)
// A sample counts for the first category found walking from the leaf to the root, so the split adds up to the busy
// time. Both gRPC servers are profiled one after the other in one run (--grpc_impl h2, then grpc-js, the reference;
// --impl h2 or --impl grpc-js for one), with a side-by-side summary; with --rest, the same for REST (JSON) too.
// Bounded: --seconds (default 5) at --rate (default 1000) per server.
// Usage (after `npm run build`): node dist/bench/grpc-profile.js [--model DIR] [--rate 1000] [--seconds 5] [--impl I] [--rest]
// The machine may be shared: the split (shares of busy time) is steadier than the microseconds.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench } from '../src/core/load/bench.js';
import { GrpcH2Sender } from '../src/core/load/grpc-h2.js';
import { grpcBodyOf, inputAlias, makeBody } from './mnist-body.js';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const TRANSPORT = 'gRPC transport + HTTP/2';
const CATEGORIES: [string, (n: ProfileNode) => boolean][] = [
  ['request decode (requestDeserialize)', (n) => n.callFrame.functionName === 'requestDeserialize'],
  ['to tensors (tensorProtoToHost)', (n) => n.callFrame.functionName === 'tensorProtoToHost' || n.callFrame.functionName === 'wireTensorToHost'],
  ['request check (aliases, signature)', (n) => /core\/wire\/(predict-proto|predict-rules|signature-check)\./.test(n.callFrame.url)],
  ['reply encode', (n) => n.callFrame.functionName === 'responseSerialize' || n.callFrame.functionName === 'hostToTensorProtoField'],
  ['REST JSON parse + decode', (n) => /core\/wire\/|rest\/(predict|json)/.test(n.callFrame.url) && !/tensor-field/.test(n.callFrame.url)],
  ['batching/engine (this thread)', (n) => /core\/(serving\/(batcher|manager|loader)\.|engine\/)/.test(n.callFrame.url)],
  [TRANSPORT, (n) => /@grpc\/grpc-js|serving\/grpc\/h2-|node:internal\/http2|^node:http2/.test(n.callFrame.url)],
  ['node:http + REST server', (n) => /_http_|node:http|serving\/rest\//.test(n.callFrame.url)],
];

/**
 * Busy µs of the main thread by category, plus GC and other, for samples taken between `fromUs` and `toUs` (V8's
 * profile clock is CLOCK_MONOTONIC in µs, the same as process.hrtime), so model loading and shutdown stay out.
 * `others` collects the leaf functions of 'other' samples.
 */
function split(p: Profile, fromUs: number, toUs: number, others: Map<string, number>): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const hit = memo.get(id);
    if (hit) return hit;
    const leaf = byId.get(id)!;
    let cat: string;
    if (leaf.callFrame.functionName === '(idle)') cat = 'idle';
    else if (leaf.callFrame.functionName === '(garbage collector)') cat = 'GC';
    else {
      cat = 'other';
      outer: for (const [name, test] of CATEGORIES) {
        for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
          if (test(n)) {
            cat = name;
            break outer;
          }
        }
      }
    }
    memo.set(id, cat);
    return cat;
  };
  const out = new Map<string, number>();
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) return;
    const c = categoryOf(id);
    out.set(c, (out.get(c) ?? 0) + dt);
    if (c === 'other' || c === TRANSPORT) {
      const f = byId.get(id)!.callFrame;
      const k = `${c === TRANSPORT ? '[transport] ' : ''}${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '')}`;
      others.set(k, (others.get(k) ?? 0) + dt);
    }
  });
  return out;
}

/** Main-thread busy µs per request, in total and by category. */
interface Split {
  label: string;
  usPerRequest: number;
  byCategory: Map<string, number>;
}

async function profileOnce(modelDir: string, protocol: 'grpc' | 'rest', rate: number, seconds: number, impl = 'h2'): Promise<Split> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-prof-'));
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, path.join(path.dirname(here), 'serve.js'), '--role=tfsvc', `--model=${modelDir}`, `--grpc-impl=${impl}`], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    const ports = await new Promise<{ port: number; grpcPort: number }>((resolve, reject) => {
      child.once('message', (m: { port: number; grpcPort: number }) => resolve(m));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const json = makeBody(modelDir);
    const address = `127.0.0.1:${ports.grpcPort}`;
    const url = protocol === 'grpc' ? { label: address, open: (o: { connections: number; timeoutMs: number }) => new GrpcH2Sender(address, 'Predict', o) } : new URL(`http://127.0.0.1:${ports.port}/v1/models/m:predict`);
    const body = protocol === 'grpc' ? grpcBodyOf(json, await inputAlias(ports.port)) : Buffer.from(json);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const m = await runBench({ url, bodies: [body], schedule: { kind: 'constant', rate }, durationMs: seconds * 1000, requests: Infinity, warmupMs: 1000, timeoutMs: 5000, connections: 128 });
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const s = m.summary();
    const requests = s.requests + rate; // the window covers the warmup second too
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no profile written');
    const others = new Map<string, number>();
    const parts = split(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile, fromUs, toUs, others);
    const busy = [...parts].filter(([k]) => k !== 'idle').reduce((a, [, v]) => a + v, 0);
    const total = busy + (parts.get('idle') ?? 0);
    const label = protocol === 'grpc' ? `gRPC (${impl})` : 'REST';
    console.log(`\n${label} Predict, ${rate}/s for ${seconds}s (+1 s warmup): ${s.ok} ok, ${s.errors} errors, P50 ${s.corrected.p50.toFixed(2)} ms, P99 ${s.corrected.p99.toFixed(2)} ms`);
    console.log(`  main thread busy ${((busy / total) * 100).toFixed(0)}% of the run, ${(busy / requests).toFixed(0)} us per request:`);
    for (const [k, v] of [...parts].filter(([k]) => k !== 'idle').sort((a, b) => b[1] - a[1])) {
      console.log(`    ${k.padEnd(40)} ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${(v / requests).toFixed(1).padStart(6)} us/req`);
    }
    for (const [name, pick] of [['other', (k: string) => !k.startsWith('[transport]')], ['gRPC transport', (k: string) => k.startsWith('[transport]')]] as const) {
      const top = [...others].filter(([k]) => pick(k)).sort((a, b) => b[1] - a[1]).slice(0, 8);
      if (top.length) console.log(`  '${name}', its largest leaf functions: ${top.map(([k, v]) => `${k.replace('[transport] ', '')} ${((v / busy) * 100).toFixed(1)}%`).join('; ')}`);
    }
    return { label, usPerRequest: busy / requests, byCategory: new Map([...parts].filter(([k]) => k !== 'idle').map(([k, v]) => [k, v / requests])) };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const root = path.resolve(path.dirname(here), '../..');
  const cnn = path.resolve(root, '../shared/models/keras/mnist_cnn_keras3');
  const modelDir = path.resolve(arg('model', existsSync(cnn) ? cnn : path.join(root, 'fixtures/models/mnist')));
  const rate = Number(arg('rate', '1000'));
  const seconds = Number(arg('seconds', '5'));
  console.log(`bench/grpc-profile: ${path.relative(root, modelDir)}; the machine may be shared: read the shares, the microseconds are noisy.`);
  const impls = arg('impl', 'both') === 'both' ? ['h2', 'grpc-js'] : [arg('impl', 'h2')];
  const runs: Split[] = [];
  for (const impl of impls) runs.push(await profileOnce(modelDir, 'grpc', rate, seconds, impl));
  if (args.includes('--rest')) runs.push(await profileOnce(modelDir, 'rest', rate, seconds));
  if (runs.length < 2) return;
  // Side by side: µs per request of each category, and each run's total against the first's.
  const cats = [...new Set(runs.flatMap((r) => [...r.byCategory.keys()]))];
  console.log(`\nmain-thread us per request, side by side (${runs.map((r) => r.label).join(' | ')}):`);
  for (const c of cats) console.log(`  ${c.padEnd(40)} ${runs.map((r) => (r.byCategory.get(c) ?? 0).toFixed(0).padStart(7)).join(' ')}`);
  console.log(`  ${'total'.padEnd(40)} ${runs.map((r) => r.usPerRequest.toFixed(0).padStart(7)).join(' ')}`);
  for (const r of runs.slice(1)) console.log(`  ${runs[0]!.label} / ${r.label}: ${(runs[0]!.usPerRequest / r.usPerRequest).toFixed(2)}x the main-thread time per request`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
