// Parsing and printing of the units the load commands take and show: durations ("30s", "500ms", "2m"), percentages
// ("10%", "0.1%"), rates and latencies. Bad input raises UsageError naming the flag, never NaN downstream.
import { UsageError } from '../errors.js';

const DURATION_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s" → 30000 (milliseconds). A bare number means seconds. `what` names the flag in the error message. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)?\s*$/.exec(String(text));
  if (!m) throw new UsageError(`${what}: cannot read "${text}" as a duration (examples: 500ms, 30s, 2m)`);
  return Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!;
}

/** "10%" → 0.10; "0.1%" → 0.001. A bare number is taken as a percentage too ("10" → 0.10). */
export function parsePercent(text: string, what = 'percentage'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(String(text));
  if (!m) throw new UsageError(`${what}: cannot read "${text}" as a percentage (example: 10%)`);
  return Number(m[1]) / 100;
}

/** A positive integer flag value, or UsageError. */
export function parsePositiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${what}: expected a positive integer, got "${text}"`);
  return n;
}

/** A positive number flag value (rates may be fractional), or UsageError. */
export function parsePositiveNumber(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what}: expected a positive number, got "${text}"`);
  return n;
}

/** Latency in milliseconds for people: 0.412ms, 12.3ms, 1.52s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)}s`;
  if (ms >= 100) return `${ms.toFixed(0)}ms`;
  if (ms >= 10) return `${ms.toFixed(1)}ms`;
  if (ms >= 1) return `${ms.toFixed(2)}ms`;
  return `${ms.toFixed(3)}ms`;
}

/** A rate for people: 4987.3/s. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1)}/s`;
}

/** A fraction as a percentage: 0.00123 → "0.123%". */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '-';
  const p = fraction * 100;
  return `${p === 0 ? '0' : p >= 10 ? p.toFixed(1) : p >= 0.1 ? p.toFixed(2) : p.toPrecision(2)}%`;
}
