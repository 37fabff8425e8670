// pad_variable_length_inputs (TF Serving's BatchingParameters field 7): requests whose inputs differ in dims other
// than 0 (sequences of different lengths, say) join one batch, each input padded up to the largest size of each dim
// in the batch. As in TF Serving, a tensor is padded with its own first element, and outputs are returned as the
// padded batch computed them (each request gets its rows, at the batch's padded inner shape).
import type { HostTensor } from '../engine/types.js';

type TypedArray = Exclude<HostTensor['data'], Uint8Array[]>;

/** The part of the batch compatibility key for one input when padding: dtype and rank, not the inner sizes. */
export function paddedShapeKey(name: string, t: HostTensor): string {
  return `${name}:${t.dtype}:rank${t.shape.length}`;
}

/** Per input name, the largest size of each inner dim across `inputs` (one record per request). */
export function commonInnerShapes(inputs: Record<string, HostTensor>[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const rec of inputs) {
    for (const [k, t] of Object.entries(rec)) {
      const inner = t.shape.slice(1);
      const cur = out[k];
      out[k] = cur ? cur.map((d, i) => Math.max(d, inner[i]!)) : inner;
    }
  }
  return out;
}

/** `t` padded to `[rows, ...inner]` with its own first element; `t` itself when it already has that shape. */
export function padTo(t: HostTensor, inner: number[]): HostTensor {
  const have = t.shape.slice(1);
  if (have.every((d, i) => d === inner[i])) return t;
  const rows = t.shape[0]!;
  const shape = [rows, ...inner];
  const total = shape.reduce((a, b) => a * b, 1);
  const fill = t.data.length > 0 ? t.data[0] : undefined;
  const out: unknown[] | TypedArray = Array.isArray(t.data) ? new Array<Uint8Array>(total) : new (t.data.constructor as new (n: number) => TypedArray)(total);
  if (fill !== undefined) (out as { fill(v: unknown): unknown }).fill(fill);
  // Row-major strides of the source and the destination; each source element lands at the same index in every dim.
  const srcStrides = strides(t.shape);
  const dstStrides = strides(shape);
  const n = t.data.length;
  for (let i = 0; i < n; i++) {
    let rem = i;
    let dst = 0;
    for (let d = 0; d < shape.length; d++) {
      const idx = Math.floor(rem / srcStrides[d]!);
      rem -= idx * srcStrides[d]!;
      dst += idx * dstStrides[d]!;
    }
    (out as unknown[])[dst] = (t.data as ArrayLike<unknown>)[i];
  }
  if (Array.isArray(out) && fill === undefined) out.fill(new Uint8Array(0));
  return { dtype: t.dtype, shape, data: out as HostTensor['data'] };
}

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1]! * shape[d + 1]!;
  return s;
}
