// HostTensors → a TF Serving REST predict body. The row ("instances") format when every input has a batch
// dimension of the same size, which is how clients usually call TF Serving; the columnar ("inputs") format
// otherwise (scalars, mismatched first dimensions), which TF Serving accepts for any shapes.
import type { HostTensor } from '../engine/types.js';

type Json = number | boolean | string | { b64: string } | Json[];

/** JSON value of element `i` as TF Serving's REST API writes it (strings: UTF-8 text or {"b64": ...}). */
function element(t: HostTensor, i: number): Json {
  const v = (t.data as ArrayLike<unknown>)[i];
  switch (t.dtype) {
    case 'DT_STRING': {
      const bytes = Buffer.from(v as Uint8Array);
      const text = bytes.toString('utf8');
      return Buffer.from(text, 'utf8').equals(bytes) ? text : { b64: bytes.toString('base64') };
    }
    case 'DT_BOOL':
      return v !== 0;
    case 'DT_FLOAT':
    case 'DT_HALF':
    case 'DT_BFLOAT16':
      // float32 values print with float32 precision (0.123, not 0.12300000339746475): same value, smaller body.
      return Number((v as number).toPrecision(7));
    default:
      return Number(v);
  }
}

/** Nested arrays for the part of `t` starting at `offset` with `shape`. */
function nest(t: HostTensor, shape: number[], offset: number): Json {
  if (shape.length === 0) return element(t, offset);
  const [d, ...rest] = shape as [number, ...number[]];
  const stride = rest.reduce((a, b) => a * b, 1);
  const out: Json[] = new Array(d);
  for (let i = 0; i < d; i++) out[i] = nest(t, rest, offset + i * stride);
  return out;
}

/** The whole tensor as nested JSON arrays (a scalar as a bare value). */
export function tensorToJson(t: HostTensor): Json {
  return nest(t, t.shape, 0);
}

/** A predict body for `inputs`; `signature` undefined leaves the server's default. */
export function restPredictBody(signature: string | undefined, inputs: Record<string, HostTensor>): Record<string, unknown> {
  const entries = Object.entries(inputs);
  const head: Record<string, unknown> = signature ? { signature_name: signature } : {};
  const rows = entries.length ? entries[0]![1].shape[0] : undefined;
  const rowFormat = entries.length > 0 && entries.every(([, t]) => t.shape.length >= 1 && t.shape[0] === rows);
  if (!rowFormat) return { ...head, inputs: Object.fromEntries(entries.map(([k, t]) => [k, tensorToJson(t)])) };
  const instances: Json[] | Array<Record<string, Json>> = [];
  for (let r = 0; r < rows!; r++) {
    if (entries.length === 1) {
      const t = entries[0]![1];
      const rowShape = t.shape.slice(1);
      (instances as Json[]).push(nest(t, rowShape, r * rowShape.reduce((a, b) => a * b, 1)));
    } else {
      (instances as Array<Record<string, Json>>).push(
        Object.fromEntries(entries.map(([k, t]) => {
          const rowShape = t.shape.slice(1);
          return [k, nest(t, rowShape, r * rowShape.reduce((a, b) => a * b, 1))];
        })),
      );
    }
  }
  return { ...head, instances };
}
