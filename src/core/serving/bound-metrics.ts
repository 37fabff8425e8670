// Counters, gauges and histograms with pre-bound label sets, for the metrics updated on every request. prom-client's
// own metrics hash and validate the label object on every inc/observe (its `labels(...)` children too), about 0.5 us
// each; the HTTP thread updates several per request. Here a caller binds label values once (`labels(...)`, cached) and
// then updates plain fields. The metrics register in a prom-client Registry and hand it their values in prom-client's
// own shapes, so the exposition text is the one prom-client writes for its metrics (same lines, same order).
import type { Registry } from 'prom-client';

interface Config {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: Registry[];
}

type Labels = Record<string, string>;

interface ExportedValue {
  value: number;
  labels: Labels | Record<string, string | number>;
  sharedLabels?: Labels;
  metricName?: string;
}

abstract class BoundMetric<Child extends { labels: Labels }> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum';
  abstract readonly type: string;
  protected readonly children = new Map<string, Child>();

  constructor(protected readonly config: Config) {
    this.name = config.name;
    this.help = config.help;
    // The registry only needs name, help, type, aggregator, get/getForPromString and reset.
    for (const r of config.registers) r.registerMetric(this as never);
  }

  protected abstract create(labels: Labels): Child;

  /** The child for these label values (in labelNames order), created on first use and kept. */
  labels(...values: string[]): Child {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let child = this.children.get(key);
    if (!child) {
      if (values.length !== this.config.labelNames.length) {
        throw new Error(`${this.name}: expected ${this.config.labelNames.length} label values, got ${values.length}`);
      }
      const labels: Labels = {};
      this.config.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      child = this.create(labels);
      this.children.set(key, child);
    }
    return child;
  }

  protected abstract values(): ExportedValue[];

  getForPromString(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: string }> {
    // Key order as prom-client's own (visible only in getMetricsAsJSON).
    const head = this.type === 'histogram' ? { name: this.name, help: this.help } : { help: this.help, name: this.name };
    return Promise.resolve({ ...head, type: this.type, values: this.values(), aggregator: this.aggregator });
  }

  /** prom-client's JSON shape (getMetricsAsJSON): shared labels merged into each value's labels. */
  async get(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: string }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }

  reset(): void {
    this.children.clear();
  }
}

export class CounterChild {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class BoundCounter extends BoundMetric<CounterChild> {
  readonly type = 'counter';
  protected create(labels: Labels): CounterChild {
    return new CounterChild(labels);
  }
  protected values(): ExportedValue[] {
    return [...this.children.values()].map((c) => ({ value: c.value, labels: c.labels }));
  }
}

export class GaugeChild {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
  dec(by = 1): void {
    this.value -= by;
  }
  set(v: number): void {
    this.value = v;
  }
}

export class BoundGauge extends BoundMetric<GaugeChild> {
  readonly type = 'gauge';
  protected create(labels: Labels): GaugeChild {
    return new GaugeChild(labels);
  }
  protected values(): ExportedValue[] {
    return [...this.children.values()].map((c) => ({ value: c.value, labels: c.labels }));
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); an observation above the last bound is only in `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${v}`);
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += v;
    this.count++;
  }
}

export class BoundHistogram extends BoundMetric<HistogramChild> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];
  constructor(config: Config & { buckets: readonly number[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }
  protected create(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.bounds);
  }
  protected values(): ExportedValue[] {
    const out: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.children.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += c.counts[i]!;
        out.push({ labels: { le }, sharedLabels: c.labels, value: acc, metricName: bucket });
      });
      out.push({ labels: { le: '+Inf' }, sharedLabels: c.labels, value: c.count, metricName: bucket });
      out.push({ labels: {}, sharedLabels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      out.push({ labels: {}, sharedLabels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
