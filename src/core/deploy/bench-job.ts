// `tfsvc k8s bench`: distributed load as two Kubernetes Jobs sharing a volume (docs/deploy.md, "Distributed load").
//
// 1. An Indexed Job of N generator pods. Pod i runs `tfsvc bench URL ... --shard i/N` (i = JOB_COMPLETION_INDEX) and
//    writes its --json result to RESULTS_DIR/shard-i.json on the shared volume. A barrier on the volume lines the
//    shards up: each pod marks itself ready; shard 0, once all N are, writes a common start time a few seconds ahead
//    (Unix seconds, `--start-at`), so the generators send side by side even when their pods started minutes apart.
// 2. A merge Job (one pod) that waits for the N result files (or a shard's failure marker, or its deadline) and runs
//    `tfsvc bench merge` with the SLOs: its exit code, and so the Job's Complete/Failed condition, is the verdict; its
//    log is the merged report; merged.json and merged.xml (JUnit) land next to the shards' files.
//
// Neither Job retries (backoffLimit 0): a shard rerun later would not be part of the same run. Both run with the
// serving pods' security settings (non-root uid 10001, read-only root filesystem).
import { Job } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import { UsageError } from '../errors.js';
import { MOUNTS } from './k8s-options.js';

export interface BenchJobOptions {
  /** Base name; the Jobs are NAME-RUNID and NAME-RUNID-merge. */
  readonly name: string;
  readonly namespace?: string;
  readonly image: string;
  readonly shards: number;
  /** Names this run: the results directory on the volume and --run-id of every shard. */
  readonly runId: string;
  /** A PersistentVolumeClaim every pod mounts at /results (ReadWriteMany when the pods land on several nodes). */
  readonly resultsPvc: string;
  /** `tfsvc bench` arguments of the whole run (URL first), without --shard, --run-id, --start-at, --json, --slo. */
  readonly benchArgs: readonly string[];
  /** `tfsvc bench merge` gates: --slo expressions. */
  readonly slos: readonly string[];
  /** Seconds between the last generator pod being ready and the common start. */
  readonly startDelaySeconds: number;
  /** How long the barrier and the merge wait, and the Jobs' activeDeadlineSeconds. */
  readonly deadlineSeconds: number;
  readonly cpu: string;
  readonly memory: string;
}

export const RESULTS_MOUNT = '/results';

/** Flags the Jobs set themselves on each shard or on the merge; giving them in the bench arguments is refused. */
export const RESERVED_BENCH_FLAGS = ['--shard', '--run-id', '--start-at', '--json', '--slo', '--find-max', '--no-progress'];

/**
 * Shard pod i. Arguments ("$@") are the run's bench arguments. Writes ready-i, waits for shard 0's start-at, runs
 * its shard, and leaves failed-i (holding the exit code) when the generator failed so the merge stops waiting.
 */
export const SHARD_SCRIPT = `set -u
i="$JOB_COMPLETION_INDEX"; dir="$RESULTS_DIR"; tfsvc="\${TFSVC_BIN:-/app/bin/tfsvc}"
fail() { echo "tfsvc k8s bench: shard $i: $1" >&2; echo 2 > "$dir/failed-$i"; exit 2; }
mkdir -p "$dir" || exit 2
[ ! -e "$dir/shard-$i.json" ] || fail "$dir already holds results of run $RUN_ID: generate a new run (tfsvc k8s bench without --run-id)"
: > "$dir/ready-$i"
waited=0
if [ "$i" = 0 ]; then
  while [ "$(ls "$dir" | grep -c '^ready-[0-9]*$')" -lt "$SHARDS" ]; do
    [ "$waited" -lt "$DEADLINE_SECONDS" ] || fail "only $(ls "$dir" | grep -c '^ready-[0-9]*$') of $SHARDS generator pods started within \${DEADLINE_SECONDS}s"
    sleep 1; waited=$((waited + 1))
  done
  echo $(( $(date +%s) + START_DELAY_SECONDS )) > "$dir/start-at.tmp" && mv "$dir/start-at.tmp" "$dir/start-at"
fi
while [ ! -s "$dir/start-at" ]; do
  [ "$waited" -lt "$DEADLINE_SECONDS" ] || fail "no start time from shard 0 within \${DEADLINE_SECONDS}s"
  sleep 1; waited=$((waited + 1))
done
"$tfsvc" bench "$@" --shard "$i/$SHARDS" --run-id "$RUN_ID" --start-at "$(cat "$dir/start-at")" --json "$dir/shard-$i.json" --no-progress
code=$?
[ "$code" = 0 ] || echo "$code" > "$dir/failed-$i"
exit "$code"
`;

/** The merge pod. Arguments ("$@") are the --slo gates. Exit code: bench merge's (0 met, 1 failed, 2 no full set). */
export const MERGE_SCRIPT = `set -u
dir="$RESULTS_DIR"; tfsvc="\${TFSVC_BIN:-/app/bin/tfsvc}"
waited=0
while :; do
  for f in "$dir"/failed-*; do
    [ -e "$f" ] || continue
    echo "tfsvc k8s bench: generator $(basename "$f" | sed 's/failed-//') of run $RUN_ID failed (exit $(cat "$f")); see its pod's log" >&2
    exit 2
  done
  n=$(ls "$dir" 2>/dev/null | grep -c '^shard-[0-9]*\\.json$')
  [ "$n" -lt "$SHARDS" ] || break
  if [ "$waited" -ge "$DEADLINE_SECONDS" ]; then echo "tfsvc k8s bench: $n of $SHARDS shard results after \${DEADLINE_SECONDS}s" >&2; break; fi
  sleep 2; waited=$((waited + 2))
done
exec "$tfsvc" bench merge "$dir"/shard-*.json --json "$dir/merged.json" --junit "$dir/merged.xml" "$@"
`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function checkBenchJobOptions(o: BenchJobOptions): void {
  const merge = `${o.name}-${o.runId}-merge`;
  if (!DNS_LABEL.test(o.name)) throw new UsageError(`--name "${o.name}": Kubernetes names are lower-case letters, digits and '-'`);
  if (!DNS_LABEL.test(o.runId)) throw new UsageError(`--run-id "${o.runId}": lower-case letters, digits and '-' (it names the Jobs)`);
  if (merge.length > 63) throw new UsageError(`the merge Job's name "${merge}" is longer than 63 characters: shorten --name or --run-id`);
  if (!(o.shards >= 1)) throw new UsageError('--shards must be at least 1');
  if (o.benchArgs.length === 0 || o.benchArgs[0]!.startsWith('-')) throw new UsageError('give the Service URL the generators load, e.g. http://mnist.ml.svc:8501');
  for (const arg of o.benchArgs) {
    const flag = arg.split('=')[0]!;
    if (RESERVED_BENCH_FLAGS.includes(flag)) {
      throw new UsageError(`${flag}: tfsvc k8s bench sets it${flag === '--slo' ? ' (give --slo to tfsvc k8s bench itself: the merge gates on it)' : ' on each generator'}; leave it out of the bench arguments`);
    }
  }
}

function meta(o: BenchJobOptions, name: string, component: string): IObjectMeta {
  return {
    name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    labels: { 'app.kubernetes.io/name': 'tfsvc-bench', 'app.kubernetes.io/instance': `${o.name}-${o.runId}`, 'app.kubernetes.io/component': component, 'app.kubernetes.io/managed-by': 'tfsvc' },
  };
}

function podSpec(o: BenchJobOptions, container: IContainer): IPodSpec {
  return {
    restartPolicy: 'Never',
    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    automountServiceAccountToken: false,
    containers: [
      {
        ...container,
        image: o.image,
        resources: { requests: { cpu: o.cpu, memory: o.memory }, limits: { memory: o.memory } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
        volumeMounts: [
          { name: 'results', mountPath: RESULTS_MOUNT },
          { name: 'tmp', mountPath: MOUNTS.tmp },
        ],
      },
    ],
    volumes: [
      { name: 'results', persistentVolumeClaim: { claimName: o.resultsPvc } },
      { name: 'tmp', emptyDir: {} },
    ],
  };
}

function env(o: BenchJobOptions): NonNullable<IContainer['env']> {
  return [
    { name: 'RESULTS_DIR', value: `${RESULTS_MOUNT}/${o.runId}` },
    { name: 'RUN_ID', value: o.runId },
    { name: 'SHARDS', value: String(o.shards) },
    { name: 'DEADLINE_SECONDS', value: String(o.deadlineSeconds) },
    { name: 'TMPDIR', value: MOUNTS.tmp },
  ];
}

/** The Indexed Job of N generator pods. */
export function generatorJob(o: BenchJobOptions): Job {
  const labels = meta(o, `${o.name}-${o.runId}`, 'generator');
  return new Job({
    metadata: labels,
    spec: {
      completionMode: 'Indexed',
      completions: o.shards,
      parallelism: o.shards,
      backoffLimit: 0,
      activeDeadlineSeconds: o.deadlineSeconds * 2,
      template: {
        metadata: { labels: labels.labels },
        spec: {
          ...podSpec(o, {
            name: 'bench',
            // tini forwards signals to the shell and reaps; the script's arguments are the run's bench arguments.
            command: ['/usr/bin/tini', '--', '/bin/sh', '-c', SHARD_SCRIPT, 'tfsvc-shard'],
            args: [...o.benchArgs],
            env: [
              // The Job controller sets this annotation on each pod of an Indexed Job (Kubernetes 1.21+).
              { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
              { name: 'START_DELAY_SECONDS', value: String(o.startDelaySeconds) },
              ...env(o),
            ],
          }),
          // One generator per node where the cluster allows: generators sharing a node share its CPU and network.
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/instance': `${o.name}-${o.runId}`, 'app.kubernetes.io/component': 'generator' } } },
          ],
        },
      },
    },
  });
}

/** The merge Job: one pod, `bench merge` of the N files once they are all there. */
export function mergeJob(o: BenchJobOptions): Job {
  const labels = meta(o, `${o.name}-${o.runId}-merge`, 'merge');
  return new Job({
    metadata: labels,
    spec: {
      completions: 1,
      backoffLimit: 0,
      activeDeadlineSeconds: o.deadlineSeconds * 2,
      template: {
        metadata: { labels: labels.labels },
        spec: podSpec(o, {
          name: 'merge',
          command: ['/usr/bin/tini', '--', '/bin/sh', '-c', MERGE_SCRIPT, 'tfsvc-merge'],
          args: o.slos.flatMap((s) => ['--slo', s]),
          env: env(o),
        }),
      },
    },
  });
}

/** Both Jobs, schema-validated, in apply order. */
export function benchJobs(o: BenchJobOptions): object[] {
  checkBenchJobOptions(o);
  return [generatorJob(o), mergeJob(o)].map((job) => {
    try {
      job.validate();
    } catch (err) {
      throw new UsageError(`generated Job "${job.metadata?.name}" is not valid: ${(err as Error).message}`);
    }
    return job.toJSON();
  });
}
