// Scaling on request rate: a HorizontalPodAutoscaler (autoscaling/v2) on a Pods metric that prometheus-adapter
// computes from tfsvc's request counter, or, as an alternative, a KEDA ScaledObject querying Prometheus directly.
// CPU is a poor signal for a batching server (batches get cheaper per request as load rises), so both scale on QPS.
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { K8sOptions } from './k8s-options.js';
import { objectMeta } from './workload.js';

/** The per-pod metric the HPA reads through the custom metrics API. */
export const QPS_METRIC = 'tfsvc_requests_per_second';
/** The counter both scalers rate: every answered REST/gRPC request, TF Serving's name. */
export const REQUEST_COUNTER = ':tensorflow:serving:request_count';

export function horizontalPodAutoscaler(o: K8sOptions): HorizontalPodAutoscaler {
  return new HorizontalPodAutoscaler({
    metadata: objectMeta(o),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: o.name },
      minReplicas: o.minReplicas,
      maxReplicas: o.maxReplicas,
      metrics: [{ type: 'Pods', pods: { metric: { name: QPS_METRIC }, target: { type: 'AverageValue', averageValue: String(o.targetQps) } } }],
      behavior: {
        // Scale up at once (a late scale-up costs the SLO), down slowly (a new pod pays a model load and warmup).
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
      },
    },
  });
}

/**
 * prometheus-adapter's rule (Helm values `rules.custom`) that turns the request counter into QPS_METRIC per pod.
 * The adapter must run in the cluster; this is its configuration, not a Kubernetes object.
 */
export function prometheusAdapterValues(): object {
  return {
    rules: {
      custom: [
        {
          seriesQuery: `{__name__="${REQUEST_COUNTER}",namespace!="",pod!=""}`,
          resources: { overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } } },
          name: { matches: '^.*$', as: QPS_METRIC },
          metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)',
        },
      ],
    },
  };
}

/** The PromQL KEDA evaluates: the Service's total request rate; KEDA divides it by the threshold to get replicas. */
export function kedaQuery(o: K8sOptions): string {
  const ns = o.namespace ? `namespace="${o.namespace}",` : '';
  return `sum(rate(${REQUEST_COUNTER}{${ns}service="${o.name}"}[1m]))`;
}

export function scaledObject(o: K8sOptions): ScaledObject {
  return new ScaledObject({
    metadata: objectMeta(o),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: o.name },
      minReplicaCount: o.minReplicas,
      maxReplicaCount: o.maxReplicas,
      pollingInterval: 15,
      cooldownPeriod: 300,
      triggers: [{ type: 'prometheus', metadata: { serverAddress: o.prometheusUrl, query: kedaQuery(o), threshold: String(o.targetQps) } }],
    },
  });
}
