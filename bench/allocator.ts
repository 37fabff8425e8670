// bench/allocator: what glibc's allocator setting costs and saves, side by side in one run. The Docker image sets
// GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768 (Dockerfile; docs/serve.md "Memory"); this starts one `tfsvc serve`
// per setting (each pinned to core 1, this generator on core 0; --no-pin to turn off), sends the same large :predict
// bodies to each in alternating rounds (closed loop, 4 connections) and prints each round's server CPU per request
// (all threads, /proc/PID/stat) and RSS after it. Linux only (glibc, /proc).
// The model takes [-1,28,28,1] images (the default: the Keras 3 MNIST CNN of ../shared).
// Usage (after `npm run build`): node dist/bench/allocator.js [--model DIR] [--rows 64] [--requests 400] [--rounds 3]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Pool } from 'undici';
import { onCore, pinNote, pinSelf } from './pin.js';
import { arg, cpuSeconds, repoRootOf } from './script-util.js';

const root = repoRootOf(import.meta.url);
/** Debian's libjemalloc2 (bookworm); its row is left out, with a note, where it is not installed. */
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const SETTINGS: Record<string, Record<string, string>> = {
  'glibc default': {},
  'mmap 64 KiB': { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' },
  'mmap 32 KiB': { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=32768' },
  ...(existsSync(JEMALLOC) ? { jemalloc: { LD_PRELOAD: JEMALLOC } } : {}),
};

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function start(modelDir: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const argv = onCore(1, [process.execPath, path.join(root, 'bin/tfsvc'), 'serve', modelDir, '--model_name=m', '--rest_api_port=0', '--port=0', '--host=127.0.0.1']);
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const seen = (d: Buffer) => {
      out += d.toString();
      const m = /REST API listening on [\d.]+:(\d+)/.exec(out);
      if (m && /AVAILABLE at/.test(out)) resolve({ child, port: Number(m[1]) });
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

/** MNIST-shaped [28,28,1] images as float32-style JSON numbers (what a client holding float32 data prints). */
function bodies(rows: number): Buffer[] {
  const dims = [28, 28, 1];
  const instance = (k: number) => Array.from({ length: dims[0]! }, (_, i) => Array.from({ length: dims[1]! }, (_, j) => [Math.fround(((i * dims[1]! + j + k) * 0.6180339) % 1)]));
  return Array.from({ length: 8 }, (_, b) => Buffer.from(JSON.stringify({ instances: Array.from({ length: rows }, (_, r) => instance(r + b * rows)) })));
}

async function drive(port: number, body: Buffer[], n: number): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 });
  let next = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < n) {
        const i = next++;
        const r = await pool.request({ path: '/v1/models/m:predict', method: 'POST', body: body[i % body.length], headers: { 'content-type': 'application/json' } });
        await r.body.text();
        if (r.statusCode === 200) ok++;
      }
    }),
  );
  await pool.close();
  return ok;
}

async function main(): Promise<void> {
  const modelDir = path.resolve(root, arg('model', '../shared/models/keras/mnist_cnn_keras3')!);
  const rows = Number(arg('rows', '64'));
  const requests = Number(arg('requests', '400'));
  const rounds = Number(arg('rounds', '3'));
  pinSelf(0);
  const body = bodies(rows);
  console.log(`== ${path.relative(root, modelDir)}: ${rows} rows per request (${(body[0]!.length / 2 ** 20).toFixed(2)} MB bodies), ${requests} requests x ${rounds} rounds; ${pinNote()}`);
  const servers: Record<string, { child: ChildProcess; port: number }> = {};
  try {
    for (const [name, env] of Object.entries(SETTINGS)) {
      servers[name] = await start(modelDir, env);
      await drive(servers[name]!.port, body, 50); // warm up
    }
    const cpu: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const [name, s] of Object.entries(servers)) {
        const c0 = cpuSeconds(s.child.pid);
        const ok = await drive(s.port, body, requests);
        const ms = ((cpuSeconds(s.child.pid) - c0) / ok) * 1e3;
        (cpu[name] ??= []).push(ms);
        console.log(`round ${r + 1}  ${name.padEnd(20)} ${ms.toFixed(2)} ms CPU per request (${ok} answered 200), RSS ${rssMiB(s.child.pid!).toFixed(0)} MiB`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const base = median(cpu['glibc default']!);
    for (const [name, xs] of Object.entries(cpu)) console.log(`${name.padEnd(20)} CPU per request ${median(xs).toFixed(2)} ms (median), x${(median(xs) / base).toFixed(2)} of glibc's default; RSS at the end ${rssMiB(servers[name]!.child.pid!).toFixed(0)} MiB`);
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
