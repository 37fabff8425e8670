// HDR histograms of latency in microseconds (hdr-histogram-js), with the exact serialisation `--json` files carry:
// the compressed-base64 encoding of HdrHistogram's own format, so runs from several machines merge without loss.
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

export type { Histogram };

/**
 * 'run': 1 µs to 1 hour at 3 significant digits (0.1% value error everywhere in range; larger values auto-resize),
 * about 95 KB. 'second': the per-second timeline buckets, 2 digits in a packed array (a few KB), so an hour-long run
 * keeps its 3600 buckets in a few MB.
 */
export type HistogramKind = 'run' | 'second';

export function newHistogram(kind: HistogramKind = 'run'): Histogram {
  return kind === 'run'
    ? hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 })
    : hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2, bitBucketSize: 'packed' });
}

/** Records a latency in ms (float) as whole microseconds, at least 1. */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Decodes into a fresh histogram of the standard configuration, so merged and recorded ones compare equal. */
export function decodeHistogram(text: string, kind: HistogramKind = 'run'): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(text, kind === 'run' ? 32 : 'packed');
  const h = newHistogram(kind);
  h.add(decoded);
  return h;
}

/** ms at a percentile (0..100); NaN when empty. */
export function percentileMs(h: Histogram, percentile: number): number {
  if (h.totalCount === 0) return NaN;
  return h.getValueAtPercentile(percentile) / 1000;
}

/** Every distinct recorded value (µs, at histogram resolution) with its count, ascending. For exact comparisons. */
export function recordedValues(h: Histogram): Array<[number, number]> {
  const it = (h as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
  it.reset();
  const out: Array<[number, number]> = [];
  while (it.hasNext()) {
    const v = it.next();
    out.push([v.valueIteratedTo, v.countAtValueIteratedTo]);
  }
  return out;
}

/** True when both histograms hold the same counts at the same values. */
export function sameHistogram(a: Histogram, b: Histogram): boolean {
  if (a.totalCount !== b.totalCount) return false;
  const x = recordedValues(a);
  const y = recordedValues(b);
  return x.length === y.length && x.every(([v, c], i) => v === y[i]![0] && c === y[i]![1]);
}
