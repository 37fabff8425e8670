// bench/serve-cpu: server CPU per request, split by thread, for tfsvc and the bare node:http ceiling. CPU time is
// what stays stable on a shared 2-core machine (throughput and latency move with whatever else runs), so this is the
// figure to compare before and after a change of the request path.
//
// Each server runs in a child process (bench/serve.js --role=...); this process sends a fixed number of requests
// with C connections (closed loop) and reads the child's per-thread CPU from /proc/PID/task/TID/stat (Linux):
//   main    the HTTP thread (JSON parse, decode, batching, encode, hand-off): the one that limits throughput;
//   others  every other thread: the inference workers (tfsvc) and V8/libuv helpers (GC, compilation).
// A thread that ended during a round (a replaced worker) drops out of the sum: keep rounds free of such events.
// Usage: node dist/bench/serve-cpu.js [--model DIR] [--requests N] [--connections C] [--rounds R] [--workers W] [--roles bare,tfsvc]
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { makeBody } from './mnist-body.js';

const here = fileURLToPath(import.meta.url);
const root = (() => {
  let d = path.dirname(here);
  while (!existsSync(path.join(d, 'package.json'))) d = path.dirname(d);
  return d;
})();
const serveScript = path.join(path.dirname(here), 'serve.js');

function arg(name: string, def: string): string {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  const a = process.argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : process.argv[i + 1]!;
}

interface ThreadCpu {
  main: number;
  others: number;
}

/** CPU seconds of process `pid`: its main thread (tid == pid) and all its other threads together. Node does not name
 * its threads (all are "node"), so inference workers and V8/libuv helpers cannot be told apart from /proc. */
function threadCpu(pid: number): ThreadCpu {
  const out: ThreadCpu = { main: 0, others: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const s = (Number(f[11]) + Number(f[12])) / 100;
    if (Number(tid) === pid) out.main += s;
    else out.others += s;
  }
  return out;
}

function start(role: string, modelDir: string, workers: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(serveScript, [`--role=${role}`, `--model=${modelDir}`, `--workers=${workers}`], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${role} server exited with ${code}`)));
  });
}

async function drive(port: number, body: string, requests: number, connections: number): Promise<{ ok: number; seconds: number }> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  let next = 0;
  let ok = 0;
  const t0 = performance.now();
  const loop = async (): Promise<void> => {
    while (next < requests) {
      next++;
      const r = await pool.request({ path: '/v1/models/m:predict', method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await r.body.text();
      if (r.statusCode === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return { ok, seconds };
}

async function main(): Promise<void> {
  const modelDir = path.resolve(arg('model', path.join(root, 'fixtures/models/mnist')));
  const requests = Number(arg('requests', '10000'));
  const connections = Number(arg('connections', '16'));
  const rounds = Number(arg('rounds', '3'));
  const workers = Number(arg('workers', '1'));
  const roles = arg('roles', 'bare,tfsvc').split(',');
  const body = makeBody(modelDir);
  console.log(`== ${path.relative(root, modelDir) || modelDir}: ${requests} requests x ${rounds} rounds, ${connections} connections, ${workers} tfsvc worker(s)`);
  for (const role of roles) {
    const { child, port } = await start(role, modelDir, workers);
    try {
      await drive(port, body, 2000, 4); // warm up (JIT, pools)
      const per: { main: number; others: number; total: number; rps: number }[] = [];
      for (let r = 0; r < rounds; r++) {
        const c0 = threadCpu(child.pid!);
        const { ok, seconds } = await drive(port, body, requests, connections);
        const c1 = threadCpu(child.pid!);
        const us = (k: keyof ThreadCpu) => ((c1[k] - c0[k]) / ok) * 1e6;
        const row = { main: us('main'), others: us('others'), total: 0, rps: ok / seconds };
        row.total = row.main + row.others;
        per.push(row);
      }
      // The round with the least total CPU is the one least disturbed by other processes.
      per.sort((a, b) => a.total - b.total);
      const best = per[0]!;
      const all = per.map((p) => p.total.toFixed(0)).join('/');
      console.log(
        `${role.padEnd(6)} server CPU per request: total ${best.total.toFixed(0)} us (main thread ${best.main.toFixed(0)}, other threads ${best.others.toFixed(0)})  rounds ${all} us  ${best.rps.toFixed(0)} req/s`,
      );
    } finally {
      child.kill('SIGTERM');
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
