// Per-request response checks (k6's `check()`, as flags): `--expect-status 200,201` or `--expect-status 4xx`, and a
// body check, either a JSONPath-like path that must be present (`$.predictions[0]`), optionally equal to a JSON
// value (`$.predictions[0][0]==2.5`), or a regular expression the body must match (`/"predictions"/`). A response
// that fails a check counts as a failed request of kind 'check' (it still has a latency: an answer came).
import { UsageError } from '../errors.js';
import type { Outcome } from './client.js';
import type { Sender } from './endpoint.js';

type Segment = string | number;

export type BodyCheck =
  | { kind: 'path'; text: string; path: Segment[]; equals?: unknown }
  | { kind: 'regex'; text: string; re: RegExp };

export interface ResponseCheck {
  /** Accepted statuses; undefined = any 2xx. */
  statuses?: (status: number) => boolean;
  statusText?: string;
  body?: BodyCheck;
}

/** `200`, `200,201`, `2xx`, `4xx,503` → a status predicate. */
export function parseExpectStatus(text: string): ResponseCheck['statuses'] {
  const parts = text.split(',').map((p) => p.trim().toLowerCase());
  const tests: Array<(s: number) => boolean> = [];
  for (const p of parts) {
    if (/^[1-5]xx$/.test(p)) {
      const c = Number(p[0]);
      tests.push((s) => Math.floor(s / 100) === c);
    } else if (/^[1-5]\d\d$/.test(p)) {
      const n = Number(p);
      tests.push((s) => s === n);
    } else {
      throw new UsageError(`--expect-status "${text}": expected HTTP statuses like 200, 200,201 or 2xx`);
    }
  }
  return (s) => tests.some((t) => t(s));
}

/** Parses `$.a.b[0]`, `$['a'][0]==value` or `/regex/flags`. */
export function parseBodyCheck(text: string): BodyCheck {
  const t = text.trim();
  const rx = /^\/(.*)\/([a-z]*)$/s.exec(t);
  if (rx) {
    try {
      return { kind: 'regex', text: t, re: new RegExp(rx[1]!, rx[2]) };
    } catch (err) {
      throw new UsageError(`--expect-body "${text}": ${(err as Error).message}`);
    }
  }
  if (!t.startsWith('$')) throw new UsageError(`--expect-body "${text}": give a JSON path ($.predictions[0], optionally ==VALUE) or a /regex/`);
  const eq = t.indexOf('==');
  const pathText = eq >= 0 ? t.slice(0, eq).trim() : t;
  const path: Segment[] = [];
  const seg = /\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let i = 1;
  while (i < pathText.length) {
    seg.lastIndex = i;
    const m = seg.exec(pathText);
    if (!m) throw new UsageError(`--expect-body "${text}": cannot read the path at "${pathText.slice(i)}" (use .name, [index] or ['name'])`);
    path.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4])!));
    i = seg.lastIndex;
  }
  if (eq < 0) return { kind: 'path', text: t, path };
  const raw = t.slice(eq + 2).trim();
  let equals: unknown;
  try {
    equals = JSON.parse(raw);
  } catch {
    equals = raw; // a bare word compares as a string: $.model_version_status[0].state==AVAILABLE
  }
  return { kind: 'path', text: t, path, equals };
}

function at(value: unknown, path: Segment[]): unknown {
  let v = value;
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

/** Why the body fails the check, or undefined when it passes. */
export function bodyFailure(check: BodyCheck, body: Buffer): string | undefined {
  const text = body.toString('utf8');
  if (check.kind === 'regex') return check.re.test(text) ? undefined : `body does not match ${check.text}`;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return `body is not JSON (checking ${check.text})`;
  }
  const v = at(doc, check.path);
  if (v === undefined || v === null) return `${check.text}: not in the response`;
  if ('equals' in check && JSON.stringify(v) !== JSON.stringify(check.equals)) return `${check.text}: got ${JSON.stringify(v).slice(0, 80)}`;
  return undefined;
}

/**
 * Wraps a sender so that answers failing `check` count as errors of kind 'check', and answers with an expected
 * non-2xx status count as successes. Transport failures pass through unchanged.
 */
export function checkedSender(inner: Sender, check: ResponseCheck): Sender {
  return {
    close: () => inner.close(),
    send: async (body) => {
      const out: Outcome = await inner.send(body);
      if (out.error && out.error !== 'http') return out;
      if (check.statuses) {
        if (!check.statuses(out.status)) return { status: out.status, bytesIn: out.bytesIn, error: 'check', message: `status ${out.status}, expected ${check.statusText}${out.message ? `: ${out.message}` : ''}` };
      } else if (out.error) {
        return out;
      }
      if (check.body && out.body) {
        const why = bodyFailure(check.body, out.body);
        if (why) return { status: out.status, bytesIn: out.bytesIn, error: 'check', message: why };
      }
      return { status: out.status, bytesIn: out.bytesIn };
    },
  };
}
