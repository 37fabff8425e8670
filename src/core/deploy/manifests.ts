// Everything `tfsvc k8s` writes, built from K8sOptions: the Kubernetes objects (validated against the Kubernetes and
// CRD JSON schemas that the kubernetes-models packages ship, so a typo fails here rather than at `kubectl apply`), the
// plain Prometheus rule file, prometheus-adapter's rule and the Grafana dashboard.
import { stringify } from 'yaml';
import { UsageError } from '../errors.js';
import { checkK8sOptions, type K8sOptions } from './k8s-options.js';
import { deployment, networkPolicy, podDisruptionBudget, service } from './workload.js';
import { horizontalPodAutoscaler, prometheusAdapterValues, scaledObject } from './autoscaling.js';
import { prometheusRule, serviceMonitor } from './monitoring.js';
import { sloRules, type RuleFile } from './slo-rules.js';
import { grafanaDashboard } from './grafana-dashboard.js';

/** A kubernetes-models object: validate() throws on a schema violation, toJSON() gives the plain object. */
interface K8sModel {
  validate(): void;
  toJSON(): object;
}

export interface GeneratedFiles {
  /** Kubernetes objects, in apply order. */
  readonly objects: object[];
  /** Prometheus rule file (recording + alerting); empty groups without --slo. */
  readonly rules: RuleFile;
  /** prometheus-adapter Helm values for the HPA's QPS metric (only with the HPA). */
  readonly adapterValues?: object;
  readonly dashboard: object;
}

function validated(models: K8sModel[]): object[] {
  return models.map((m) => {
    try {
      m.validate();
    } catch (err) {
      const obj = m.toJSON() as { kind?: string; metadata?: { name?: string } };
      throw new UsageError(`generated ${obj.kind} "${obj.metadata?.name}" is not valid: ${(err as Error).message}`);
    }
    return m.toJSON();
  });
}

export function generate(o: K8sOptions): GeneratedFiles {
  checkK8sOptions(o);
  const rules = sloRules(o.slos);
  const models: K8sModel[] = [deployment(o), service(o), podDisruptionBudget(o), networkPolicy(o)];
  if (o.autoscaler === 'hpa') models.push(horizontalPodAutoscaler(o));
  if (o.autoscaler === 'keda') models.push(scaledObject(o));
  models.push(serviceMonitor(o));
  if (o.slos.length > 0) models.push(prometheusRule(o, rules));
  return {
    objects: validated(models),
    rules,
    ...(o.autoscaler === 'hpa' ? { adapterValues: prometheusAdapterValues() } : {}),
    dashboard: grafanaDashboard({ title: `tfsvc: ${o.name}`, uid: `tfsvc-${o.name}`.slice(0, 40), slos: o.slos, gpu: o.gpu > 0 }),
  };
}

/** A YAML stream of documents, as `kubectl apply -f -` reads it. */
export function toYamlStream(docs: object[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

export function toYaml(doc: object): string {
  return stringify(doc, { lineWidth: 0 });
}
