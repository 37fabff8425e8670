// `tfsvc k8s`: the generated objects are valid against the Kubernetes (and KEDA / prometheus-operator) schemas when
// read back from the YAML a user pipes to kubectl, and carry what a production deployment relies on: probes on the
// health endpoints, a drain that fits the grace period, the QoS class asked for, GPU scheduling, gRPC kept inside the
// cluster, QPS autoscaling and scraping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { generate, toYamlStream } from '../../src/core/deploy/manifests.js';
import type { K8sOptions } from '../../src/core/deploy/k8s-options.js';
import { parseLatencySlo } from '../../src/core/deploy/slo-spec.js';
import { UsageError } from '../../src/core/errors.js';
import { buildProgram } from '../../src/cli.js';
import { runCli } from '../load/cli-helper.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Deployment, Service, PodDisruptionBudget, NetworkPolicy, HorizontalPodAutoscaler, ScaledObject, ServiceMonitor, PrometheusRule,
};

const BASE: K8sOptions = {
  name: 'mnist', namespace: 'ml', image: 'registry.example/tfsvc:0.1.0', modelName: 'mnist', modelBasePath: 's3://models/mnist',
  replicas: 2, minReplicas: 2, maxReplicas: 10, targetQps: 150, autoscaler: 'hpa', prometheusUrl: 'http://prometheus:9090',
  gpu: 0, qos: 'burstable', cpu: '2', memory: '4Gi', drainSeconds: 30, preStopSeconds: 5, grpcProbes: false, slos: [], serveArgs: [],
};

/** What `kubectl apply -f -` would read: the YAML stream, parsed back and checked against the schemas by kind. */
function applied(o: Partial<K8sOptions>): Record<string, any> {
  const docs = parseAllDocuments(toYamlStream(generate({ ...BASE, ...o }).objects)).map((d) => d.toJSON());
  const byKind: Record<string, any> = {};
  for (const doc of docs) {
    const Model = MODELS[doc.kind];
    assert.ok(Model, `unexpected kind ${doc.kind}`);
    new Model(doc as never).validate();
    assert.equal(doc.metadata.namespace, o.namespace === undefined ? BASE.namespace : o.namespace);
    byKind[doc.kind] = doc;
  }
  return byKind;
}
const container = (objs: Record<string, any>) => objs.Deployment.spec.template.spec.containers[0];

/** The kubelet's rule for a pod's QoS class (single-container pod). */
function qosClass(c: any): string {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  if (Object.keys(req).length === 0 && Object.keys(lim).length === 0) return 'BestEffort';
  const full = (r: string) => lim[r] !== undefined && (req[r] === undefined || req[r] === lim[r]);
  return full('cpu') && full('memory') ? 'Guaranteed' : 'Burstable';
}

test('the default set is schema-valid and probes the health endpoints, drains within the grace period, runs locked down', () => {
  const objs = applied({});
  assert.deepEqual(Object.keys(objs).sort(), ['Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceMonitor']);
  const c = container(objs);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.deepEqual(c.ports.map((p: any) => [p.name, p.containerPort]), [['grpc', 8500], ['http', 8501]]);
  assert.deepEqual(objs.Service.spec.ports.map((p: any) => [p.name, p.port]), [['grpc', 8500], ['http', 8501]]);
  const pod = objs.Deployment.spec.template.spec;
  // The server keeps serving (readiness off) for the drain delay after SIGTERM, then drains for at most the timeout:
  // both must fit inside the grace period, and nothing else may delay SIGTERM.
  const flag = (name: string) => Number(c.args.find((a: string) => a.startsWith(`--${name}=`))?.split('=')[1]);
  assert.equal(flag('drain_delay_seconds'), BASE.preStopSeconds);
  assert.equal(flag('drain_timeout_seconds'), BASE.drainSeconds);
  assert.equal(c.lifecycle?.preStop, undefined, 'no preStop sleep on top of the server\'s own delay');
  assert.ok(pod.terminationGracePeriodSeconds > flag('drain_delay_seconds') + flag('drain_timeout_seconds'), 'delay and drain fit inside the grace period');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.ok(c.volumeMounts.some((m: any) => m.mountPath === '/tmp'), 'a writable /tmp on a read-only root');
  assert.deepEqual(c.args.slice(0, 3), ['serve', '--model_name=mnist', '--model_base_path=s3://models/mnist']);
  // The HPA owns the replica count.
  assert.equal(objs.Deployment.spec.replicas, undefined);
  assert.equal(objs.Deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
});

test('each QoS class gets the requests and limits that make the kubelet assign it', () => {
  assert.equal(qosClass(container(applied({ qos: 'guaranteed' }))), 'Guaranteed');
  assert.equal(qosClass(container(applied({ qos: 'burstable' }))), 'Burstable');
  assert.equal(qosClass(container(applied({ qos: 'besteffort' }))), 'BestEffort');
  assert.equal(qosClass(container(applied({ qos: 'guaranteed', gpu: 1 }))), 'Guaranteed');
});

test('--gpu asks for nvidia.com/gpu, tolerates GPU taints, serves on webgpu; a BestEffort GPU pod is refused', () => {
  const c = container(applied({ gpu: 2 }));
  assert.equal(c.resources.limits['nvidia.com/gpu'], '2');
  assert.ok(c.args.includes('--backend=webgpu'));
  assert.ok(c.env.some((e: any) => e.name === 'NVIDIA_DRIVER_CAPABILITIES' && e.value.includes('graphics')));
  const pod = applied({ gpu: 2 }).Deployment.spec.template.spec;
  assert.ok(pod.tolerations.some((t: any) => t.key === 'nvidia.com/gpu'));
  assert.throws(() => generate({ ...BASE, gpu: 1, qos: 'besteffort' }), (e: unknown) => e instanceof UsageError && /besteffort/.test(e.message));
});

test('the NetworkPolicy admits REST from anywhere and gRPC only from pods inside the cluster', () => {
  const np = applied({}).NetworkPolicy;
  assert.deepEqual(np.spec.policyTypes, ['Ingress']);
  const grpc = np.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === 8500));
  const rest = np.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === 8501));
  assert.deepEqual(grpc.from, [{ namespaceSelector: {} }], 'gRPC: any namespace, no ipBlock');
  assert.equal(grpc.ports.length, 1);
  assert.equal(rest.from, undefined, 'REST: open');
});

test('autoscaling on requests per second: an HPA on a Pods metric, or KEDA querying the Service\'s request rate', () => {
  const hpa = applied({}).HorizontalPodAutoscaler;
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 10]);
  assert.equal(hpa.spec.metrics[0].type, 'Pods');
  assert.equal(hpa.spec.metrics[0].pods.metric.name, 'tfsvc_requests_per_second');
  assert.equal(hpa.spec.metrics[0].pods.target.averageValue, '150');
  const adapter = generate(BASE).adapterValues as any;
  assert.equal(adapter.rules.custom[0].name.as, 'tfsvc_requests_per_second');
  const keda = applied({ autoscaler: 'keda' });
  assert.equal(keda.HorizontalPodAutoscaler, undefined);
  const trig = keda.ScaledObject.spec.triggers[0];
  assert.equal(trig.type, 'prometheus');
  assert.match(trig.metadata.query, /:tensorflow:serving:request_count\{namespace="ml",service="mnist"\}/);
  assert.equal(trig.metadata.threshold, '150');
  const fixed = applied({ autoscaler: 'none', replicas: 3, minReplicas: 1, maxReplicas: 5 });
  assert.equal(fixed.Deployment.spec.replicas, 3);
});

test('TLS and JWT: secrets mounted read-only, HTTPS probes and scraping, flags tfsvc serve accepts', () => {
  const objs = applied({ tlsSecret: 'mnist-tls', jwksConfigMap: 'mnist-jwks', grpcProbes: false });
  const c = container(objs);
  assert.equal(c.readinessProbe.httpGet.scheme, 'HTTPS');
  assert.equal(objs.ServiceMonitor.spec.endpoints[0].scheme, 'https');
  for (const m of ['/etc/tfsvc/tls', '/etc/tfsvc/jwks']) assert.ok(c.volumeMounts.some((v: any) => v.mountPath === m && v.readOnly));
  // Every flag the pod passes exists on `tfsvc serve` (a typo here would crash-loop the pod).
  const serve = buildProgram().commands.find((cmd) => cmd.name() === 'serve')!;
  const known = new Set(serve.options.map((opt) => opt.long));
  for (const arg of c.args.slice(1)) {
    const flag = arg.split('=')[0];
    assert.ok(known.has(flag) || known.has(flag.replace(/_/g, '-')), `tfsvc serve has no ${flag}`);
  }
});

test('gRPC probes use the standard health service: the model\'s name for readiness, "" for liveness', () => {
  const c = container(applied({ grpcProbes: true }));
  assert.deepEqual(c.readinessProbe.grpc, { port: 8500, service: 'mnist' });
  assert.deepEqual(c.livenessProbe.grpc, { port: 8500, service: '' });
});

test('an SLO adds a PrometheusRule with the burn-rate alerts; bad names and SLOs are usage errors', () => {
  const rule = applied({ slos: [parseLatencySlo('p99<100ms@99.9%')] }).PrometheusRule;
  const alerts = rule.spec.groups.flatMap((g: any) => g.rules).filter((r: any) => r.alert);
  assert.equal(alerts.length, 4);
  assert.throws(() => generate({ ...BASE, name: 'MNIST_model' }), UsageError);
  assert.throws(() => generate({ ...BASE, replicas: 20 }), UsageError);
  assert.throws(() => parseLatencySlo('p99<90ms'), /not a bucket bound.*100ms/);
  assert.throws(() => parseLatencySlo('p99 under 100ms'), /expected pNN<THRESHOLD/);
  assert.deepEqual(parseLatencySlo('p99.9<250ms'), { text: 'p99.9<250ms', quantile: 0.999, thresholdSeconds: 0.25, objective: 0.999 });
});

test('tfsvc k8s prints the objects for kubectl, and exits 2 naming a missing flag', async () => {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await runCli(['k8s', '--name', 'mnist', '--image', 'x:1', '--model_base_path', 's3://b/mnist', '--autoscaler', 'keda']);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(code, 0);
  assert.deepEqual(parseAllDocuments(out).map((d) => (d.toJSON() as any).kind), ['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'ScaledObject', 'ServiceMonitor']);
  const stderr: string[] = [];
  const ew = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (stderr.push(s), true)) as typeof process.stderr.write;
  try {
    assert.equal(await runCli(['k8s', '--name', 'mnist', '--model_base_path', 's3://b/mnist']), 2);
  } finally {
    process.stderr.write = ew;
  }
  assert.match(stderr.join(''), /--image/);
});
