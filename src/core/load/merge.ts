// `tfsvc bench merge a.json b.json ...`: reads `--json` results and adds them (exact histogram addition). Results of
// `bench --shard i/N` merge only as a complete set of one run's shards: same plan, target and run id, every index
// 0..N-1 exactly once, measured side by side; anything else is refused naming the files, since a report over a
// partial or mixed set would understate the load (or mix two runs) without saying so.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { Metrics } from './metrics.js';
import type { ShardInfo } from './shard.js';

/** Reads one `--json` result file; UsageError naming the file when it is not one. */
export function readResultFile(file: string): Metrics {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  try {
    return Metrics.fromJSON(JSON.parse(text));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
}

/**
 * Merges result files in order (shard files in shard order); the first file's run info leads. UsageError when the
 * files are shards that do not make up one run (checkShardSet).
 */
export function mergeResultFiles(files: string[]): Metrics {
  if (files.length === 0) throw new UsageError('bench merge: give at least one result file');
  let results = files.map((file) => ({ file, m: readResultFile(file) }));
  const sharded = checkShardSet(results);
  if (sharded) results = [...results].sort((a, b) => a.m.info.shard!.index - b.m.info.shard!.index);
  const [first, ...rest] = results.map((r) => r.m);
  for (const m of rest) first!.merge(m);
  if (sharded) {
    const s = sharded;
    delete first!.info.shard;
    first!.info.shards = { count: s.count, plan: s.plan, ...(s.runId !== undefined ? { runId: s.runId } : {}) };
    first!.info.schedule = `${s.schedule}, in ${s.count} shards`;
  }
  return first!;
}

const shardName = (s: { index: number; count: number }) => `shard ${s.index}/${s.count}`;

/**
 * Checks that files carrying `--shard` results are exactly one run's N shards; returns that run's shard info, or
 * undefined when no file is a shard (plain results from several machines merge as before).
 */
export function checkShardSet(results: Array<{ file: string; m: Metrics }>): ShardInfo | undefined {
  const shards = results.filter((r) => r.m.info.shard);
  if (shards.length === 0) return undefined;
  const whole = results.find((r) => !r.m.info.shard);
  if (whole) {
    throw new UsageError(`bench merge: ${shards[0]!.file} is ${shardName(shards[0]!.m.info.shard!)} of a run but ${whole.file} is not a shard: merge one run's shard files on their own`);
  }
  const [a, ...rest] = shards;
  const sa = a!.m.info.shard!;
  for (const b of rest) {
    const sb = b.m.info.shard!;
    const differ = (what: string, x: string, y: string) =>
      new UsageError(`bench merge: ${a!.file} and ${b.file} are not shards of one run: ${what} ${JSON.stringify(x)} and ${JSON.stringify(y)}`);
    if (sb.count !== sa.count) throw differ('they split the load in different counts,', shardName(sa), shardName(sb));
    if (sb.plan !== sa.plan) throw differ('their plans differ,', sa.plan, sb.plan);
    if (b.m.info.target !== a!.m.info.target) throw differ('their targets differ,', a!.m.info.target, b.m.info.target);
    if (sb.runId !== sa.runId) throw differ('their run ids (--run-id) differ,', sa.runId ?? '(none)', sb.runId ?? '(none)');
  }
  const byIndex = new Map<number, string>();
  for (const r of shards) {
    const s = r.m.info.shard!;
    const seen = byIndex.get(s.index);
    if (seen !== undefined) throw new UsageError(`bench merge: ${shardName(s)} is given twice (${seen} and ${r.file})`);
    byIndex.set(s.index, r.file);
  }
  const missing = Array.from({ length: sa.count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    const have = [...byIndex].sort((x, y) => x[0] - y[0]).map(([i, f]) => `${i} (${f})`).join(', ');
    throw new UsageError(
      `bench merge: ${missing.length === 1 ? 'shard' : 'shards'} ${missing.join(', ')} of ${sa.count} missing (have ${have}): ` +
        'a report without every shard would understate the load; merge all the shard files of the run',
    );
  }
  // Without a run id, shards of one run are recognised by having run side by side: a common instant in every window.
  if (sa.runId === undefined) {
    const windows = shards.map((r) => ({ file: r.file, w: r.m.windowsMs() }));
    const latestStart = windows.reduce((x, y) => (y.w[0]![0] > x.w[0]![0] ? y : x));
    const earliestEnd = windows.reduce((x, y) => (y.w[y.w.length - 1]![1] < x.w[x.w.length - 1]![1] ? y : x));
    if (latestStart.w[0]![0] >= earliestEnd.w[earliestEnd.w.length - 1]![1]) {
      const iso = (ms: number) => new Date(ms).toISOString();
      throw new UsageError(
        `bench merge: ${earliestEnd.file} ended (${iso(earliestEnd.w[earliestEnd.w.length - 1]![1])}) before ${latestStart.file} started ` +
          `(${iso(latestStart.w[0]![0])}): shards of one run send side by side; these look like different runs (give each run its own --run-id)`,
      );
    }
  }
  return sa;
}
