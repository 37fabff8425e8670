// `tfsvc k8s`: writes the Kubernetes objects that run a model on tfsvc serve (Deployment, Service, autoscaler, PDB,
// NetworkPolicy, ServiceMonitor, PrometheusRule), plus the SLO kit (Prometheus rules, Grafana dashboard) and
// prometheus-adapter's rule. Parses flags, calls src/core/deploy, writes. See docs/deploy.md.
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../core/errors.js';
import { parsePositiveInt, parseNonNegativeInt } from './options.js';

interface K8sFlags {
  name: string;
  image: string;
  namespace?: string;
  model_name?: string;
  model_base_path: string;
  modelPvc?: string;
  s3Secret?: string;
  replicas?: number;
  min: number;
  max: number;
  targetQps: number;
  autoscaler: 'hpa' | 'keda' | 'none';
  prometheusUrl: string;
  gpu: number;
  tlsSecret?: string;
  jwksConfigmap?: string;
  qos: 'guaranteed' | 'burstable' | 'besteffort';
  cpu: string;
  memory: string;
  drainSeconds: number;
  prestopSeconds: number;
  grpcProbes?: boolean;
  slo: string[];
  out?: string;
}

function parsePositiveNumber(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number above 0');
  return n;
}
const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  const k8s = program
    .command('k8s')
    .description('write Kubernetes manifests, Prometheus SLO rules and a Grafana dashboard for serving a model with tfsvc')
    // `k8s bench ...` owns the flags written after `bench` (its --name, --image are its own).
    .enablePositionalOptions()
    // Checked in the action, not by commander: commander would also demand them of `k8s bench`.
    .option('--name <name>', 'name of the Deployment, Service and the other objects (required)')
    .option('--image <image>', 'container image with tfsvc (see the Dockerfile) (required)')
    .addOption(new Option('--model_base_path <path>', 's3://bucket/prefix/model or a path in the container (required)'))
    .addOption(new Option('--model_name <name>', 'model name in URLs (default: --name)'))
    .option('--namespace <ns>', 'namespace of every object (default: kubectl\'s)')
    .option('--model-pvc <claim>', 'PersistentVolumeClaim with the model versions, mounted read-only at /models')
    .option('--s3-secret <secret>', 'Secret whose keys become environment variables (AWS_ACCESS_KEY_ID, S3_ENDPOINT, ...)')
    .option('--replicas <n>', 'replicas without an autoscaler (default: --min)', parsePositiveInt)
    .option('--min <n>', 'fewest replicas', parsePositiveInt, 2)
    .option('--max <n>', 'most replicas', parsePositiveInt, 10)
    .option('--target-qps <n>', 'requests per second per pod the autoscaler aims for', parsePositiveNumber, 100)
    .addOption(new Option('--autoscaler <kind>', 'scale on QPS with an HPA (prometheus-adapter) or KEDA, or not at all').choices(['hpa', 'keda', 'none']).default('hpa'))
    .option('--prometheus-url <url>', 'Prometheus that KEDA queries', 'http://prometheus-operated.monitoring.svc:9090')
    .option('--gpu <n>', 'NVIDIA GPUs per pod (serves on --backend webgpu)', parseNonNegativeInt, 0)
    .option('--tls-secret <secret>', 'kubernetes.io/tls Secret: serve REST over HTTPS')
    .option('--jwks-configmap <configmap>', 'ConfigMap with key jwks.json: require JWTs signed by its keys')
    .addOption(new Option('--qos <class>', 'Kubernetes QoS class of the pods').choices(['guaranteed', 'burstable', 'besteffort']).default('burstable'))
    .option('--cpu <quantity>', 'CPU request (and limit with --qos guaranteed)', '1')
    .option('--memory <quantity>', 'memory request and limit', '2Gi')
    .option('--drain-seconds <s>', 'seconds a pod may take to finish in-flight requests once it stops listening (serve --drain_timeout_seconds)', parsePositiveInt, 30)
    .option('--prestop-seconds <s>', 'seconds a pod keeps serving after SIGTERM, readiness off, while it leaves the endpoints (serve --drain_delay_seconds)', parseNonNegativeInt, 5)
    .option('--grpc-probes', 'probe over grpc.health.v1 instead of HTTP /readyz and /healthz')
    .option('--slo <spec>', 'latency SLO for the alert rules and dashboard, e.g. p99<100ms@99.9% (repeatable)', collect, [])
    .option('--out <dir>', 'write tfsvc.yaml, prometheus-rules.yaml, prometheus-adapter-values.yaml and grafana-dashboard.json there (default: the objects to stdout)')
    .argument('[serve-args...]', 'extra `tfsvc serve` flags, after --')
    .action(async (serveArgs: string[], flags: K8sFlags) => {
      for (const [flag, value] of [['--name <name>', flags.name], ['--image <image>', flags.image], ['--model_base_path <path>', flags.model_base_path]] as const) {
        if (value === undefined) throw new UsageError(`k8s: required option '${flag}' not specified`);
      }
      const [{ generate, toYaml, toYamlStream }, { parseLatencySlo }] = await Promise.all([
        import('../core/deploy/manifests.js'),
        import('../core/deploy/slo-spec.js'),
      ]);
      const files = generate({
        name: flags.name,
        namespace: flags.namespace,
        image: flags.image,
        modelName: flags.model_name ?? flags.name,
        modelBasePath: flags.model_base_path,
        modelPvc: flags.modelPvc,
        s3Secret: flags.s3Secret,
        replicas: flags.replicas ?? flags.min,
        minReplicas: flags.min,
        maxReplicas: flags.max,
        targetQps: flags.targetQps,
        autoscaler: flags.autoscaler,
        prometheusUrl: flags.prometheusUrl,
        gpu: flags.gpu,
        tlsSecret: flags.tlsSecret,
        jwksConfigMap: flags.jwksConfigmap,
        qos: flags.qos,
        cpu: flags.cpu,
        memory: flags.memory,
        drainSeconds: flags.drainSeconds,
        preStopSeconds: flags.prestopSeconds,
        grpcProbes: flags.grpcProbes === true,
        slos: flags.slo.map(parseLatencySlo),
        serveArgs,
      });
      if (!flags.out) {
        process.stdout.write(toYamlStream(files.objects));
        return;
      }
      const { mkdir, writeFile } = await import('node:fs/promises');
      const path = await import('node:path');
      await mkdir(flags.out, { recursive: true });
      const written: [string, string][] = [
        ['tfsvc.yaml', toYamlStream(files.objects)],
        ['prometheus-rules.yaml', toYaml(files.rules)],
        ['grafana-dashboard.json', JSON.stringify(files.dashboard, null, 2) + '\n'],
      ];
      if (files.adapterValues) written.push(['prometheus-adapter-values.yaml', toYaml(files.adapterValues)]);
      for (const [file, text] of written) {
        await writeFile(path.join(flags.out, file), text);
        process.stdout.write(`wrote ${path.join(flags.out, file)}\n`);
      }
    });
  registerBench(k8s);
}

interface K8sBenchFlags {
  name: string;
  image: string;
  namespace?: string;
  shards: number;
  resultsPvc: string;
  runId?: string;
  slo: string[];
  startDelay: number;
  deadline: number;
  cpu: string;
  memory: string;
}

/** A run id from the clock: lower-case, sortable, unique per second (it names Jobs and the results directory). */
function defaultRunId(): string {
  return new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function registerBench(k8s: Command): void {
  k8s
    .command('bench')
    .description('write an Indexed Job of N `tfsvc bench --shard i/N` generator pods and a Job that merges their results (docs/deploy.md)')
    .argument('<url>', 'the Service the generators load, e.g. http://mnist.ml.svc:8501 (or grpc://mnist.ml.svc:8500)')
    .argument('[bench-args...]', '`tfsvc bench` flags of the whole run, after --, e.g. -- --model mnist --qps 3000 --duration 60s')
    .requiredOption('--name <name>', 'base name of the Jobs (NAME-RUNID and NAME-RUNID-merge)')
    .requiredOption('--image <image>', 'container image with tfsvc (see the Dockerfile)')
    .requiredOption('--shards <n>', 'generator pods; each sends 1/N of the schedule', parsePositiveInt)
    .requiredOption('--results-pvc <claim>', 'PersistentVolumeClaim for the results, mounted by every pod at /results (ReadWriteMany across nodes)')
    .option('--namespace <ns>', 'namespace of the Jobs (default: kubectl\'s)')
    .option('--run-id <id>', 'names the run: the Jobs, /results/RUNID and every shard\'s --run-id (default: the time, yyyymmddhhmmss)')
    .option('--slo <expr>', 'SLO the merged result must meet, as for bench (repeatable); the merge Job fails when one does not', collect, [])
    .option('--start-delay <s>', 'seconds from the last generator pod being ready to the common start', parsePositiveInt, 10)
    .option('--deadline <s>', 'seconds the pods wait for each other and the merge waits for results', parsePositiveInt, 3600)
    .option('--cpu <quantity>', 'CPU request of each generator pod', '1')
    .option('--memory <quantity>', 'memory request and limit of each generator pod', '512Mi')
    .option('--out <file>', 'write the Jobs there (default: stdout)')
    .option('--debug', 'print stack traces on errors') // src/cli.ts adds it to first-level commands only
    .action(async (url: string, benchArgs: string[], flags: K8sBenchFlags & { out?: string }, cmd: Command) => {
      const [{ benchJobs }, { toYamlStream }, { parseSlo }] = await Promise.all([
        import('../core/deploy/bench-job.js'),
        import('../core/deploy/manifests.js'),
        import('../core/load/slo.js'),
      ]);
      flags.slo.forEach(parseSlo); // a bad SLO fails here, not in the merge pod an hour later
      checkBenchFlags(benchArgs, cmd);
      const runId = flags.runId ?? defaultRunId();
      const jobs = benchJobs({
        name: flags.name,
        namespace: flags.namespace,
        image: flags.image,
        shards: flags.shards,
        runId,
        resultsPvc: flags.resultsPvc,
        benchArgs: [url, ...benchArgs],
        slos: flags.slo,
        startDelaySeconds: flags.startDelay,
        deadlineSeconds: flags.deadline,
        cpu: flags.cpu,
        memory: flags.memory,
      });
      const text = toYamlStream(jobs);
      if (!flags.out) {
        process.stdout.write(text);
        return;
      }
      const { writeFile } = await import('node:fs/promises');
      await writeFile(flags.out, text);
      process.stdout.write(`wrote ${flags.out} (run ${runId}: Jobs ${flags.name}-${runId} and ${flags.name}-${runId}-merge)\n`);
    });
}

/** Every flag in the pass-through bench arguments is one `tfsvc bench` has: a typo would fail N pods later. */
function checkBenchFlags(args: string[], cmd: Command): void {
  const bench = cmd.parent?.parent?.commands.find((c) => c.name() === 'bench');
  if (!bench) return;
  const known = new Set(bench.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
  for (const arg of args) {
    if (!arg.startsWith('-') || /^-\d/.test(arg)) continue;
    const flag = arg.split('=')[0]!;
    if (!known.has(flag)) throw new UsageError(`k8s bench: "${flag}" is not a tfsvc bench flag (see tfsvc bench --help)`);
  }
}
