// bench/serve: tfsvc serve against (1) a bare node:http server that parses the same JSON body and replies (the
// ceiling for any Node HTTP server) and (2) the naive server a Node user would write (fastify + the same model,
// predict per request on the main thread). Measured side by side in one run, on the same machine; prints ratios:
//   - max throughput (closed loop, C connections): tfsvc / bare             (goal >= 0.70)
//   - highest open-loop rate with P99 < 20 ms: tfsvc / naive                (goal >= 2x)
//   - P99 of tfsvc and naive at 5000 req/s (open loop)                      (goal: tfsvc < 10 ms)
// Latency is measured from each request's *intended* start (open loop, no coordinated omission).
//
// Usage (after building to .build/NAME or dist):
//   node dist/bench/serve.js [--model DIR] [--duration S] [--rates 500,1000,...] [--connections N] [--workers N]
// Models: the fixture MNIST model (fixtures/models/mnist) and the Keras 3 CNN from ../shared/models, when present.
// Each server runs in its own child process (this script with --role=...), the load generator here.
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import * as hdr from 'hdr-histogram-js';
import { makeBody } from './mnist-body.js';
import { arg, cpuSeconds, repoRootOf } from './script-util.js';

const here = fileURLToPath(import.meta.url);
const root = repoRootOf(import.meta.url);

// --- servers (child processes) ----------------------------------------------------------------------------------

async function serveBare(port: number): Promise<void> {
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { instances?: unknown[] };
      const out = JSON.stringify({ predictions: (body.instances ?? []).map(() => [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  process.send?.({ port: (server.address() as { port: number }).port });
}

async function serveNaive(port: number, modelDir: string): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { loadModel } = await import('../src/core/engine/model.js');
  const { listVersions } = await import('../src/core/savedmodel/layout.js');
  const versions = listVersions(modelDir).versions;
  const model = await loadModel(versions[versions.length - 1]!.dir);
  const sig = model.signatures.serving_default!;
  const alias = Object.keys(sig.inputs)[0]!;
  const inner = (sig.inputs[alias]!.shape ?? []).slice(1);
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.post('/v1/models/:name', async (req) => {
    const instances = (req.body as { instances: unknown[] }).instances;
    const flat = Float32Array.from((instances as unknown[]).flat(Infinity) as number[]);
    const out = await model.run('serving_default', { [alias]: { dtype: 'DT_FLOAT', shape: [instances.length, ...inner], data: flat } });
    const y = Object.values(out)[0]!;
    const row = y.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = [...(y.data as Float32Array)];
    return { predictions: instances.map((_, i) => data.slice(i * row, (i + 1) * row)) };
  });
  await app.listen({ port, host: '127.0.0.1' });
  process.send?.({ port: (app.server.address() as { port: number }).port });
}

async function serveTfsvc(port: number, modelDir: string, workers: number): Promise<void> {
  const { startServing } = await import('../src/core/serving/server.js');
  const { defaultBatching } = await import('../src/core/serving/config.js');
  const serving = await startServing({
    models: [{ name: 'm', basePath: modelDir, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: port,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: workers },
  });
  process.send?.({ port: serving.restPort });
}

// --- load generation -------------------------------------------------------------------------------------------

interface RunResult {
  sent: number;
  ok: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

async function closedLoop(port: number, body: string, connections: number, seconds: number): Promise<RunResult> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const h = hdr.build();
  let ok = 0;
  let errors = 0;
  let sent = 0;
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      sent++;
      try {
        const r = await pool.request({ path: '/v1/models/m:predict', method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await r.body.text();
        if (r.statusCode === 200) ok++;
        else errors++;
      } catch {
        errors++;
      }
      h.recordValue(Math.round((performance.now() - t0) * 1000));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const s = (performance.now() - t0) / 1000;
  await pool.close();
  return { sent, ok, errors, seconds: s, p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000 };
}

async function openLoop(port: number, body: string, rate: number, seconds: number, connections: number): Promise<RunResult> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const h = hdr.build();
  let ok = 0;
  let errors = 0;
  let sent = 0;
  let outstanding = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Promise<void>[] = [];
  const fire = (intended: number): void => {
    outstanding++;
    sent++;
    pending.push(
      pool
        .request({ path: '/v1/models/m:predict', method: 'POST', body, headers: { 'content-type': 'application/json' } })
        .then(async (r) => {
          await r.body.text();
          if (r.statusCode === 200) ok++;
          else errors++;
        })
        .catch(() => {
          errors++;
        })
        .finally(() => {
          outstanding--;
          h.recordValue(Math.max(0, Math.round((performance.now() - intended) * 1000)));
        }),
    );
  };
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
    while (sent < due) {
      if (outstanding > connections * 4) {
        // The server is far behind: count the rest of this tick as failed rather than queueing without bound.
        errors++;
        sent++;
        h.recordValue(1_000_000);
        continue;
      }
      fire(start + (sent / rate) * 1000);
    }
    // 1 ms ticks (not a setImmediate spin, which would take a core from the server on this 2-core machine); each tick
    // sends what became due, with its own intended start time.
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  await pool.close();
  return { sent, ok, errors, seconds, p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000 };
}

// --- driver ------------------------------------------------------------------------------------------------------

function start(role: string, modelDir: string, workers: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(here, [`--role=${role}`, `--model=${modelDir}`, `--workers=${workers}`], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${role} server exited with ${code}`)));
  });
}

const fmt = (n: number, d = 1) => n.toFixed(d);


async function benchModel(modelDir: string): Promise<void> {
  const seconds = Number(arg('duration', '3'));
  const connections = Number(arg('connections', '64'));
  const workers = Number(arg('workers', '1'));
  const rates = (arg('rates', '250,500,1000,2000,3000,5000') ?? '').split(',').map(Number);
  const body = makeBody(modelDir);
  console.log(`\n== ${path.relative(root, modelDir)} (body ${body.length} B, ${seconds}s per step, ${connections} connections, ${workers} tfsvc worker(s))`);
  const servers: Record<string, { child: ChildProcess; port: number }> = {};
  try {
    for (const role of ['bare', 'naive', 'tfsvc']) servers[role] = await start(role, modelDir, workers);
    // Warm every server briefly.
    for (const role of Object.keys(servers)) await closedLoop(servers[role]!.port, body, 4, 0.5);

    const max: Record<string, RunResult> = {};
    for (const role of ['bare', 'tfsvc', 'naive']) {
      const pid = servers[role]!.child.pid;
      const cpu0 = cpuSeconds(pid);
      max[role] = await closedLoop(servers[role]!.port, body, connections, seconds);
      const r = max[role]!;
      // Server CPU per request: independent of how much CPU the load generator took from the server on this machine.
      const cpuUs = ((cpuSeconds(pid) - cpu0) / Math.max(1, r.ok)) * 1e6;
      console.log(`max throughput ${role.padEnd(6)} ${fmt(r.ok / r.seconds, 0).padStart(6)} req/s  p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms  errors ${r.errors}  server CPU ${fmt(cpuUs, 0)} us/req`);
    }
    const ceiling = max.bare!.ok / max.bare!.seconds;
    const ours = max.tfsvc!.ok / max.tfsvc!.seconds;
    console.log(`ratio tfsvc/bare max throughput: ${fmt(ours / ceiling, 2)} (goal >= 0.70)`);

    const best: Record<string, number> = { tfsvc: 0, naive: 0 };
    const at5000: Record<string, number> = {};
    for (const role of ['tfsvc', 'naive']) {
      for (const rate of rates) {
        const r = await openLoop(servers[role]!.port, body, rate, seconds, connections);
        console.log(`open loop ${role.padEnd(6)} ${String(rate).padStart(5)} req/s  ok ${r.ok}/${r.sent}  p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms`);
        if (rate === 5000) at5000[role] = r.p99;
        if (r.errors === 0 && r.p99 < 20) best[role] = Math.max(best[role]!, rate);
        // Saturated (errors or a P99 far past the SLO): higher rates only get worse; jump to the 5000 req/s point.
        // A single noisy step (P99 a little over 20 ms) does not end the ladder.
        if (rate !== 5000 && (r.errors > 0 || r.p99 > 200) && rates.includes(5000)) {
          const r5 = await openLoop(servers[role]!.port, body, 5000, seconds, connections);
          at5000[role] = r5.p99;
          console.log(`open loop ${role.padEnd(6)}  5000 req/s  ok ${r5.ok}/${r5.sent}  p50 ${fmt(r5.p50)} ms  p99 ${fmt(r5.p99)} ms`);
          break;
        }
      }
    }
    console.log(`highest rate with P99 < 20 ms: tfsvc ${best.tfsvc} req/s, naive ${best.naive} req/s, ratio ${best.naive ? fmt(best.tfsvc! / best.naive, 2) : 'n/a'} (goal >= 2)`);
    console.log(`P99 at 5000 req/s: tfsvc ${at5000.tfsvc !== undefined ? fmt(at5000.tfsvc) : 'n/a'} ms, naive ${at5000.naive !== undefined ? fmt(at5000.naive) : 'n/a'} ms (goal: tfsvc < 10 ms)`);
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const role = arg('role');
  const modelDir = arg('model');
  if (role) {
    // Exit cleanly on SIGTERM so `node --cpu-prof` profiles of a server role are written.
    process.on('SIGTERM', () => process.exit(0));
    const port = Number(arg('port', '0'));
    if (role === 'bare') await serveBare(port);
    else if (role === 'naive') await serveNaive(port, modelDir!);
    else await serveTfsvc(port, modelDir!, Number(arg('workers', '1')));
    return;
  }
  const models = modelDir
    ? [path.resolve(modelDir)]
    : [path.join(root, 'fixtures/models/mnist'), path.resolve(root, '../shared/models/keras/mnist_cnn_keras3')].filter((d) => existsSync(d));
  if (models.length === 0) throw new Error('no model to benchmark: pass --model DIR (a model base directory)');
  for (const m of models) await benchModel(m);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
