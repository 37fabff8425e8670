// Prometheus Operator objects: a ServiceMonitor that scrapes every pod's metrics, and a PrometheusRule holding the
// SLO kit's rules (slo-rules.ts). Clusters without the operator use the plain rule file and the pods' annotations.
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { METRICS_PATH, type K8sOptions } from './k8s-options.js';
import type { RuleFile } from './slo-rules.js';
import { objectMeta, selectorLabels } from './workload.js';

export function serviceMonitor(o: K8sOptions): ServiceMonitor {
  const tls = o.tlsSecret
    ? {
        scheme: 'https' as const,
        tlsConfig: {
          ca: { secret: { name: o.tlsSecret, key: 'ca.crt' } },
          serverName: `${o.name}.${o.namespace ?? 'default'}.svc`,
        },
      }
    : {};
  return new ServiceMonitor({
    metadata: objectMeta(o),
    spec: {
      selector: { matchLabels: selectorLabels(o) },
      endpoints: [{ port: 'http', path: METRICS_PATH, interval: '15s', ...tls }],
    },
  });
}

export function prometheusRule(o: K8sOptions, rules: RuleFile): PrometheusRule {
  return new PrometheusRule({ metadata: objectMeta(o, `${o.name}-slo`), spec: { groups: rules.groups } });
}
