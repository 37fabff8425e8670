// Option parsers that the commands working on a model directory (inspect, run, validate, export) share, so each flag
// accepts the same spellings and rejects bad values with the same message. commander calls them while parsing and
// turns an InvalidArgumentError into "error: option '--version <n>' argument 'x' is invalid. <message>" (exit 2).
// This file loads on every start (src/cli.ts registers every command), so it imports nothing but commander (and a
// type); test/cli/startup.test.ts checks that.
import { InvalidArgumentError } from 'commander';
import type { BackendName } from '../core/engine/types.js';

// The backend names are listed here rather than imported from engine/backend.ts, which loads tfjs-core; the two checks
// below keep this list and the BackendName type equal.
export const BACKEND_NAMES = ['wasm', 'cpu', 'webgpu', 'tensorflow', 'auto'] as const satisfies readonly BackendName[];
type MissingBackend = Exclude<BackendName, (typeof BACKEND_NAMES)[number]>;
const everyBackendListed: [MissingBackend] extends [never] ? true : false = true;
void everyBackendListed;

/** --backend NAME: one of BACKEND_NAMES, checked before anything loads. */
export function parseBackend(v: string): BackendName {
  if (!(BACKEND_NAMES as readonly string[]).includes(v)) throw new InvalidArgumentError(`choose one of ${BACKEND_NAMES.join(', ')}`);
  return v as BackendName;
}

/** --version N: a model version is a directory named by a non-negative integer. */
export function parseVersion(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('a version is a non-negative integer, e.g. 123');
  return Number(v);
}

/** --tag-set a,b: a meta graph's tag set, comma-separated, blanks dropped; at least one tag. */
export function parseTags(v: string): string[] {
  const tags = v.split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length === 0) throw new InvalidArgumentError('give one or more tags, e.g. serve or serve,gpu');
  return tags;
}

/** A count that may be zero (e.g. export --warmup 0). */
export function parseNonNegativeInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(v);
}

/** A count of at least one (e.g. validate --batch). */
export function parsePositiveInt(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(v);
}

/** How a served model is named where a model directory is expected (inspect, validate): TF Serving's REST model URL. */
export const MODEL_URL_EXAMPLE = 'http://host:8501/v1/models/NAME';

/**
 * Whether a PATH argument names a served model by URL (http:// or https://, any case) rather than a directory on disk.
 * The one test inspect and validate both use, so a target is never a URL to one command and a path to the other.
 */
export function isModelUrl(target: string): boolean {
  return /^https?:\/\//i.test(target);
}
