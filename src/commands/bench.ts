// `tfsvc bench URL`: load-test a TF-Serving-compatible endpoint, report, and gate on SLOs.
// `tfsvc bench merge a.json b.json`: add up runs from several machines.
// Exit codes: 0 pass, 1 SLO failed (or --strict and the generator fell behind), 2 usage or connection error.
import { Command, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import type { Snapshot } from '../core/load/live.js';
import type { Metrics } from '../core/load/metrics.js';
import type { Schedule } from '../core/load/schedule.js';
import type { Check, Slo } from '../core/load/slo.js';
import type { TargetOptions } from '../core/load/target.js';
import { addFeatureOption, addTargetOptions, securityOf, type SecurityFlags } from './target-options.js';

// The load generator and its reports (undici, hdr-histogram-js, cli-table3, protobufjs) load inside the actions, so
// `tfsvc --help` and the other commands don't pay for them (src/cli.ts registers every command on each start).
// Only type imports, erased at compile time, stay static here.

interface BenchFlags extends TargetOptions, SecurityFlags {
  qps?: string;
  rate?: string;
  stages?: string;
  targets?: string;
  expectStatus?: string;
  expectBody?: string;
  ramp?: string;
  qpsStart?: string;
  qpsEnd?: string;
  concurrency?: string;
  arrival: 'constant' | 'poisson';
  duration?: string;
  requests?: string;
  warmup: string;
  timeout: string;
  connections: string;
  batch: string;
  seed: string;
  unknownDim: string;
  data?: string;
  feature: string[];
  slo: string[];
  baseline?: string;
  maxRegression: string;
  strict?: boolean;
  findMax?: boolean;
  maxQps?: string;
  precision: string;
  json?: string;
  junit?: string;
  html?: string;
  openmetrics?: string;
  remoteWrite?: string;
  progress: boolean;
  shard?: string;
  runId?: string;
  startAt?: string;
}

interface ReportFlags {
  slo: string[];
  baseline?: string;
  maxRegression: string;
  json?: string;
  junit?: string;
  html?: string;
  openmetrics?: string;
  remoteWrite?: string;
  strict?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function addReportOptions(cmd: Command): Command {
  return cmd
    .option('--slo <expr>', "SLO gate, repeatable: 'p99<100ms', 'p99.9<250ms', 'max<1s', 'error_rate<0.1%', 'throughput>4900'", collect, [])
    .option('--baseline <file>', 'a previous --json result to compare with (see --max-regression)')
    .option('--max-regression <pct>', 'largest allowed regression against --baseline (p50, p99, throughput)', '10%')
    .option('--json <file>', 'write the full result (with encoded HDR histograms; mergeable)')
    .option('--junit <file>', 'write JUnit XML: one test case per SLO check')
    .option('--html <file>', 'write a self-contained HTML report (latency over time, percentile distribution)')
    .option('--openmetrics <file>', 'write the result as OpenMetrics text (Prometheus textfile collector, Pushgateway)')
    .option('--remote-write <url>', 'push the result to a Prometheus remote-write endpoint (e.g. http://prometheus:9090/api/v1/write)');
}

export function register(program: Command): void {
  const bench = addTargetOptions(
    program
      .command('bench')
      .description('load-test a TF Serving REST or gRPC endpoint (tfsvc serve or TensorFlow Serving) and gate on SLOs')
      .argument('[url]', 'server (http://host:8501 or grpc://host:8500, with --model) or a full .../v1/models/NAME[/versions/V]:predict (or :classify, :regress) URL'),
  )
    .option('--signature <name>', 'signature to call (default: serving_default)')
    .option('--qps <n>', 'open loop: requests per second on a fixed schedule (latency counted from the intended start)')
    .option('-R, --rate <n>', "another name for --qps (wrk2's -R, vegeta's -rate; 500 or 500/s)")
    .option('--stages <list>', "k6-style stages: the rate moves linearly to each target over its duration, from 0, e.g. 30s:100,1m:500,30s:0")
    .option('--ramp <start:end>', 'open loop: rate rising (or falling) linearly from start to end over --duration, e.g. 100:2000')
    .option('--qps-start <n>', 'another way to write --ramp: the rate at the start of --duration (with --qps-end)')
    .option('--qps-end <n>', 'the rate at the end of --duration (with --qps-start)')
    .option('--concurrency <n>', 'closed loop: this many requests in flight, each sent when the previous answers')
    .addOption(new Option('--arrival <kind>', 'open-loop arrivals').choices(['constant', 'poisson']).default('constant'))
    .option('-d, --duration <time>', 'measured duration (default 10s), e.g. 30s, 2m')
    .option('--requests <n>', 'measured request count (instead of --duration)')
    .option('--warmup <time>', 'send for this long first and leave it out of the results', '0s')
    .option('--timeout <time>', 'per-request timeout', '30s')
    .option('--connections <n>', 'open loop: most connections (and requests in flight)', '128')
    .option('--batch <n>', 'rows per generated request', '1')
    .option('--seed <n>', 'seed for generated data and Poisson arrivals', '1')
    .option('--unknown-dim <n>', 'size for unknown (-1) non-batch dimensions in generated data', '1')
    .option('--data <file>', 'request bodies: JSONL (one JSON body a line) or a TF Serving warmup file (TFRecord)')
    .option('--targets <file>', 'several endpoints sharing the schedule by weight: JSON lines of {"url", "weight", "model", "version", "signature", "data"}')
    .option('--expect-status <list>', 'answers with another status count as failed (check): 200, 200,201, 2xx, 4xx')
    .option('--expect-body <check>', "answers whose body fails this count as failed (check): a JSON path that must be present ('$.predictions[0]'), optionally ==VALUE, or a /regex/");
  addFeatureOption(bench)
    .option('--strict', 'exit 1 when the load generator cannot keep its schedule')
    .option('--find-max', 'search for the highest --qps that meets every --slo (starts at --qps, default 100)')
    .option('--max-qps <n>', '--find-max: never try above this rate', '100000')
    .option('--precision <pct>', '--find-max: stop when the pass/fail bracket is this narrow', '5%')
    .option('--shard <i/N>', 'distributed load: send shard i of N (numbered from 0, as JOB_COMPLETION_INDEX) of this schedule; merge the N --json files with `bench merge`')
    .option('--run-id <id>', 'with --shard: a name for the run, recorded in --json; `bench merge` refuses shards of different runs')
    .option('--start-at <time>', 'start sending at this wall-clock time (ISO 8601, or Unix seconds), e.g. so that shards on several machines start together')
    .option('--no-progress', 'no live view or progress lines');
  addReportOptions(bench).action(async (url: string | undefined, flags: BenchFlags) => {
    await benchAction(url, flags);
  });

  addReportOptions(
    bench
      .command('merge')
      .description('merge --json results (e.g. from several load machines) into one report; exact histogram addition')
      .argument('<files...>', 'result files written by tfsvc bench --json'),
  )
    .option('--strict', 'exit 1 when a merged run\'s load generator fell behind its schedule')
    .action(async (files: string[], flags: ReportFlags) => {
    // Positional options (src/cli.ts) give every flag written after `merge` to merge itself, not to `bench`.
    const { mergeResultFiles } = await import('../core/load/merge.js');
    await finish(mergeResultFiles(files), flags);
  });
}

async function parseSlos(flags: ReportFlags): Promise<Slo[]> {
  const { parseSlo } = await import('../core/load/slo.js');
  return flags.slo.map(parseSlo);
}

/** Prints the report, writes outputs, and throws to set the exit code when a gate fails. */
async function finish(m: Metrics, flags: ReportFlags, extra: Check[] = []): Promise<void> {
  const [{ checkRun, failureSummary }, { readResultFile }, { writeOutputs }, { renderTable }, { parsePercent }, { ScheduleMissedError, SloFailedError }] =
    await Promise.all([
      import('../core/load/gate.js'),
      import('../core/load/merge.js'),
      import('../core/load/outputs.js'),
      import('../core/load/report/text.js'),
      import('../core/load/units.js'),
      import('../core/load/errors.js'),
    ]);
  const slos = await parseSlos(flags);
  const baseline = flags.baseline ? { metrics: readResultFile(flags.baseline), maxRegression: parsePercent(flags.maxRegression, '--max-regression') } : undefined;
  const checks = [...extra, ...checkRun(m, slos, baseline)];
  process.stdout.write(renderTable(m, checks));
  const written = writeOutputs(m, checks, flags);
  for (const f of written) process.stderr.write(`tfsvc: wrote ${f}\n`);
  if (flags.remoteWrite) {
    const { remoteWrite } = await import('../core/load/report/remote-write.js');
    const { ConnectionError } = await import('../core/load/errors.js');
    try {
      await remoteWrite(flags.remoteWrite, m, checks);
    } catch (err) {
      throw new ConnectionError((err as Error).message);
    }
    process.stderr.write(`tfsvc: pushed the result to ${flags.remoteWrite}\n`);
  }
  if (checks.some((c) => !c.pass)) throw new SloFailedError(failureSummary(checks));
  if (flags.strict && m.health?.behind) throw new ScheduleMissedError('the load generator fell behind its schedule (--strict); see the warning above');
}

async function benchAction(url: string | undefined, flags: BenchFlags): Promise<void> {
  if (!url && !flags.targets) throw new UsageError('bench: give the endpoint URL (http://host:8501 --model NAME, or a full :predict URL) or --targets FILE');
  if (url && flags.targets) throw new UsageError('give the endpoint URL or --targets FILE, not both');
  if (flags.targets && flags.data) throw new UsageError('with --targets, give each target its "data" in the targets file, not --data');
  if (flags.rate !== undefined) {
    const rate = flags.rate.replace(/\/s$/, '');
    if (flags.qps !== undefined && flags.qps !== rate) throw new UsageError('--rate (-R) is another name for --qps: give one of them');
    flags.qps = rate;
  }
  const [
    { preflight, runBench },
    { SloFailedError },
    { findMax },
    { checkRun },
    { readResultFile },
    { prepareBodies },
    { renderTable },
    { parseFeatureFlag },
    { endpointOf },
    { resolveTarget },
    { rampSchedule },
    { formatRate, parseDuration, parsePercent, parsePositiveInt, parsePositiveNumber },
    { parseStages, stagesSchedule, stagesDurationMs },
    { readTargetsFile },
    { parseBodyCheck, parseExpectStatus },
    { parseShard, planOf, shardSchedule, shareOf },
    { describeSchedule },
  ] = await Promise.all([
    import('../core/load/bench.js'),
    import('../core/load/errors.js'),
    import('../core/load/findmax.js'),
    import('../core/load/gate.js'),
    import('../core/load/merge.js'),
    import('../core/load/prepare.js'),
    import('../core/load/report/text.js'),
    import('../core/load/examples.js'),
    import('../core/load/endpoint.js'),
    import('../core/load/target.js'),
    import('../core/load/schedule.js'),
    import('../core/load/units.js'),
    import('../core/load/schedule.js'),
    import('../core/load/targets-file.js'),
    import('../core/load/response-check.js'),
    import('../core/load/shard.js'),
    import('../core/load/schedule.js'),
  ]);
  const security = await securityOf(flags);
  const entries = flags.targets
    ? readTargetsFile(flags.targets)
    : [{ url: url!, weight: 1, model: flags.model, version: flags.version, label: flags.label, signature: flags.signature, data: flags.data }];
  const resolved = entries.map((e) => ({ entry: e, target: resolveTarget(e.url, { ...flags, security, model: e.model ?? flags.model, version: e.version ?? flags.version, label: e.label ?? flags.label, signature: e.signature ?? flags.signature }) }));
  const check = flags.expectStatus || flags.expectBody
    ? {
        ...(flags.expectStatus ? { statuses: parseExpectStatus(flags.expectStatus), statusText: flags.expectStatus } : {}),
        ...(flags.expectBody ? { body: parseBodyCheck(flags.expectBody) } : {}),
      }
    : undefined;
  if (check?.body && resolved.some((r) => r.target.protocol === 'grpc')) throw new UsageError('--expect-body reads JSON answers: it works over REST only (gRPC answers are protobuf)');
  let stages: ReturnType<typeof stagesSchedule> | undefined;
  if (flags.stages !== undefined) {
    if (flags.qps || flags.concurrency || flags.findMax || flags.ramp || flags.qpsStart) throw new UsageError('--stages is a schedule of its own: give it without --qps, --ramp, --concurrency or --find-max');
    if (flags.duration || flags.requests) throw new UsageError('--stages sets the duration (the sum of its stages): leave out --duration and --requests');
    if (flags.warmup !== '0s' && parseDuration(flags.warmup, '--warmup') > 0) throw new UsageError('--stages: make the first stage the warm-up (e.g. 10s:100,...); --warmup is not taken with it');
    try {
      stages = stagesSchedule({ stages: parseStages(flags.stages, parseDuration), arrival: flags.arrival, seed: Number.parseInt(flags.seed, 10) || 1 });
    } catch (err) {
      if (err instanceof RangeError) throw new UsageError(err.message);
      throw err;
    }
    flags.qps = String(stages.rate); // passes the checks below; the stages decide the schedule
    flags.duration = `${stagesDurationMs(stages)}ms`;
  }
  const ramp = parseRampFlags(flags, parsePositiveNumber);
  if (ramp) {
    if (flags.qps || flags.concurrency || flags.findMax) throw new UsageError('--ramp is a schedule of its own: give it without --qps, --concurrency or --find-max');
    if (flags.requests) throw new UsageError('--ramp runs over --duration (the ramp spans it); --requests cannot bound it');
    flags.qps = String(ramp.endRate); // passes the checks below; the ramp decides the schedule
  }
  if (flags.qps && flags.concurrency) throw new UsageError('give --qps (open loop) or --concurrency (closed loop), not both');
  if (!flags.qps && !flags.concurrency && !flags.findMax) throw new UsageError('give --qps N (open loop, fixed rate) or --concurrency N (closed loop)');
  if (flags.findMax && flags.concurrency) throw new UsageError('--find-max searches an open-loop rate; use --qps to give the start rate, not --concurrency');
  if (flags.findMax && flags.slo.length === 0) throw new UsageError('--find-max needs at least one --slo to search against');
  if (flags.duration && flags.requests) throw new UsageError('give --duration or --requests, not both');
  // Fail on a bad SLO expression or baseline file before sending anything.
  const slos = await parseSlos(flags);
  if (flags.baseline) readResultFile(flags.baseline);
  parsePercent(flags.maxRegression, '--max-regression');
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
  if (flags.runId !== undefined && !shard) throw new UsageError('--run-id names a sharded run: give it with --shard');
  if (flags.runId !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(flags.runId)) throw new UsageError(`--run-id "${flags.runId}": use letters, digits, '.', '_' and '-' (at most 128)`);
  const startAt = flags.startAt !== undefined ? parseStartAt(flags.startAt) : undefined;
  if (shard && flags.findMax) throw new UsageError('--find-max searches with one generator; --shard splits a fixed schedule (run the search unsharded)');
  const durationMs = flags.requests ? Infinity : parseDuration(flags.duration ?? (flags.findMax ? '5s' : '10s'), '--duration');
  const totalRequests = flags.requests ? parsePositiveInt(flags.requests, '--requests') : Infinity;
  // A shard sends its part of --requests; the parts of all N shards add up to the total (shard.ts).
  const requests = shard ? shareOf(totalRequests, shard) : totalRequests;
  if (requests === 0) throw new UsageError(`--requests ${totalRequests} cannot be split into ${shard!.count} shards: give at least one request per shard`);
  const warmupMs = parseDuration(flags.warmup, '--warmup');
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  const connections = parsePositiveInt(flags.connections, '--connections');
  const batch = parsePositiveInt(flags.batch, '--batch');
  const seed = Number.parseInt(flags.seed, 10);
  if (!Number.isFinite(seed)) throw new UsageError(`--seed: expected an integer, got "${flags.seed}"`);
  const unknownDim = parsePositiveInt(flags.unknownDim, '--unknown-dim');

  const features = flags.feature.map(parseFeatureFlag);

  const prepared = [];
  for (const { entry, target } of resolved) {
    const bodySet = await prepareBodies(target, { data: entry.data, batch, seed, unknownDim, timeoutMs, features });
    for (const note of bodySet.notes) process.stderr.write(`tfsvc: note: ${note}\n`);
    const endpoint = endpointOf(target, bodySet.verb);
    await preflight(endpoint, bodySet.bodies[0]!, timeoutMs, check);
    prepared.push({ bodySet, endpoint, weight: entry.weight });
  }
  const { bodySet, endpoint } = prepared[0]!;
  const targets = prepared.length > 1 ? prepared.map((p) => ({ endpoint: p.endpoint, bodies: p.bodySet.bodies, weight: p.weight })) : undefined;
  const label = targets ? `${targets.length} targets` : endpoint.label;

  const scheduleFor = (rate: number): Schedule => (flags.arrival === 'poisson' ? { kind: 'poisson', rate, seed } : { kind: 'constant', rate });
  // Ctrl-C stops sending and still reports what was measured (a second Ctrl-C kills as usual).
  const stop = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ntfsvc: interrupted; finishing the requests in flight and reporting\n');
    stop.abort();
    process.removeListener('SIGINT', onSigint);
  };
  const run = async (schedule: Schedule, label: string): Promise<Metrics> => {
    if (stop.signal.aborted) throw new UsageError('interrupted');
    const progress = flags.progress ? await progressSink(label, durationMs === Infinity ? undefined : warmupMs + durationMs, slos) : undefined;
    process.once('SIGINT', onSigint);
    try {
      return await runBench({
        url: endpoint,
        bodies: bodySet.bodies,
        schedule,
        durationMs,
        requests,
        warmupMs,
        timeoutMs,
        connections,
        batch: bodySet.batch,
        targets,
        check,
        onProgress: progress?.update,
        signal: stop.signal,
      });
    } finally {
      process.removeListener('SIGINT', onSigint);
      progress?.stop();
    }
  };

  for (const p of prepared) process.stderr.write(`tfsvc: bench ${p.endpoint.label}${targets ? ` (weight ${p.weight})` : ''}: ${p.bodySet.source}\n`);
  if (startAt !== undefined) await waitUntil(startAt, flags.startAt!);
  if (!flags.findMax) {
    const whole: Schedule = stages
      ? stages
      : ramp
      ? rampSchedule({ ...ramp, rampMs: durationMs, offsetMs: warmupMs, arrival: flags.arrival, seed })
      : flags.concurrency
        ? { kind: 'closed', concurrency: parsePositiveInt(flags.concurrency, '--concurrency') }
        : scheduleFor(parsePositiveNumber(flags.qps!, '--qps'));
    const schedule = shard ? shardSchedule(whole, shard) : whole;
    const metrics = await run(schedule, label);
    if (shard) {
      metrics.info.schedule = `${describeSchedule(schedule)} (shard ${shard.index}/${shard.count} of ${describeSchedule(whole)})`;
      metrics.info.shard = {
        ...shard,
        schedule: describeSchedule(whole),
        plan: planOf(whole, { durationMs, requests: totalRequests, warmupMs, seed }),
        ...(flags.runId !== undefined ? { runId: flags.runId } : {}),
      };
    }
    await finish(metrics, flags);
    return;
  }

  const result = await findMax({
    startRate: flags.qps ? parsePositiveNumber(flags.qps, '--qps') : 100,
    maxRate: parsePositiveNumber(flags.maxQps ?? '100000', '--max-qps'),
    precision: parsePercent(flags.precision, '--precision'),
    maxTrials: 16,
    trial: async (rate) => {
      const metrics = await run(scheduleFor(rate), `find-max: trying ${formatRate(rate)}`);
      return { metrics, checks: checkRun(metrics, slos) };
    },
    onTrial: (t) =>
      process.stderr.write(`tfsvc: find-max: ${formatRate(t.rate)} ${t.pass ? 'meets the SLO' : `fails: ${t.reason}`}\n`),
    stopped: () => stop.signal.aborted,
  });
  if (result.interrupted) process.stderr.write('tfsvc: find-max: interrupted; reporting the best rate found so far\n');
  if (!result.best) {
    const lowest = result.trials.reduce((a, b) => (b.rate < a.rate ? b : a));
    process.stdout.write(renderTable(lowest.metrics, lowest.checks));
    throw new SloFailedError(`find-max: no rate down to ${formatRate(lowest.rate)} meets the SLO (${lowest.reason})`);
  }
  process.stdout.write(`find-max: highest rate meeting the SLO: ${formatRate(result.best.rate)} (${result.trials.length} trials)\n`);
  await finish(result.best.metrics, flags);
}

/** --start-at: ISO 8601 or Unix seconds, to epoch ms; at most a day ahead (a typo should not hang a job). */
function parseStartAt(text: string): number {
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`--start-at "${text}": expected an ISO 8601 time (2026-12-03T14:00:00Z) or Unix seconds`);
  if (ms - Date.now() > 86_400_000) throw new UsageError(`--start-at "${text}" is more than a day away`);
  return ms;
}

/** Sleeps until `ms` (epoch); a time already passed starts at once, with a note (shards then start apart). */
async function waitUntil(ms: number, text: string): Promise<void> {
  const wait = ms - Date.now();
  if (wait < -1000) process.stderr.write(`tfsvc: note: --start-at ${text} passed ${(-wait / 1000).toFixed(1)}s ago; starting now\n`);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** --ramp START:END, or --qps-start with --qps-end; undefined when neither is given. Rates >= 0, one of them > 0. */
function parseRampFlags(flags: BenchFlags, parseRate: (v: string, flag: string) => number): { startRate: number; endRate: number } | undefined {
  if (flags.ramp !== undefined && (flags.qpsStart !== undefined || flags.qpsEnd !== undefined)) {
    throw new UsageError('give --ramp START:END or --qps-start/--qps-end, not both');
  }
  if ((flags.qpsStart === undefined) !== (flags.qpsEnd === undefined)) throw new UsageError('--qps-start and --qps-end go together');
  let parts: [string, string, string, string];
  if (flags.ramp !== undefined) {
    const m = /^\s*([^:]+):([^:]+)\s*$/.exec(flags.ramp);
    if (!m) throw new UsageError(`--ramp "${flags.ramp}": expected START:END requests per second, e.g. --ramp 100:2000`);
    parts = [m[1]!.trim(), '--ramp start', m[2]!.trim(), '--ramp end'];
  } else if (flags.qpsStart !== undefined) {
    parts = [flags.qpsStart, '--qps-start', flags.qpsEnd!, '--qps-end'];
  } else {
    return undefined;
  }
  // A ramp may start (or end) at zero; the other end must be positive.
  const rate = (v: string, flag: string) => (/^0*(\.0*)?$/.test(v) ? 0 : parseRate(v, flag));
  const startRate = rate(parts[0], parts[1]);
  const endRate = rate(parts[2], parts[3]);
  if (startRate === 0 && endRate === 0) throw new UsageError('a ramp from 0/s to 0/s sends nothing');
  return { startRate, endRate };
}

/** The live view: ink on a TTY, plain lines otherwise (both on stderr), with the SLOs' status so far and time left. */
async function progressSink(label: string, totalMs: number | undefined, slos: Slo[]): Promise<{ update(s: Snapshot): void; stop(): void }> {
  if (process.stderr.isTTY) {
    const { startLiveView } = await import('../core/load/report/live-view.js');
    return startLiveView(`tfsvc bench ${label}`, totalMs, slos);
  }
  const { progressLine } = await import('../core/load/report/lines.js');
  return { update: (s) => process.stderr.write(`${progressLine(s, totalMs, slos)}\n`), stop: () => {} };
}
