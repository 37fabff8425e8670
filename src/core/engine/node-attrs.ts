// Attributes of a graph node as TensorFlow wrote them, for tfsvc's custom ops. tfjs-converter's generic attribute
// reader lowercases every string attribute (fine for `data_format`, wrong for a regex pattern or a partition type),
// so string attributes are read from the node's raw attrs: base64 in the model JSON, or byte arrays.
import * as tf from '@tensorflow/tfjs-core';

/** The custom-op view of a node that tfjs-converter passes to registerOp executors. */
export interface GraphNode {
  inputs: tf.Tensor[];
  attrs: Record<string, unknown>;
  /** Present on tfjs-converter's NodeValueImpl: the node with its unparsed attributes. */
  node?: { rawAttrs?: Record<string, { s?: string | number[]; list?: { s?: (string | number[])[] }; i?: number | string; b?: boolean }> };
}

function bytesOf(s: string | number[]): Uint8Array {
  return Array.isArray(s) ? Uint8Array.from(s) : Uint8Array.from(Buffer.from(s, 'base64'));
}

/** A string attribute's bytes, or undefined when the node does not set it. */
export function rawBytesAttr(node: GraphNode, name: string): Uint8Array | undefined {
  const s = node.node?.rawAttrs?.[name]?.s;
  return s === undefined ? undefined : bytesOf(s);
}

/** A string attribute decoded as UTF-8, case kept. */
export function rawStringAttr(node: GraphNode, name: string, fallback: string): string {
  const b = rawBytesAttr(node, name);
  return b === undefined ? fallback : Buffer.from(b).toString('utf8');
}

/** A list(string) attribute, case kept. */
export function rawStringListAttr(node: GraphNode, name: string): string[] {
  return (node.node?.rawAttrs?.[name]?.list?.s ?? []).map((s) => Buffer.from(bytesOf(s)).toString('utf8'));
}

/** An int attribute (tfjs parses these without loss of case, but int64 attrs arrive as strings). */
export function intAttr(node: GraphNode, name: string, fallback: number): number {
  const raw = node.node?.rawAttrs?.[name]?.i;
  if (raw !== undefined) return Number(raw);
  const parsed = node.attrs[name];
  return typeof parsed === 'number' ? parsed : fallback;
}

/** The raw bytes of a string tensor (tfjs's dataSync would decode them as UTF-8). */
export function stringBytes(t: tf.Tensor): Uint8Array[] {
  return tf.engine().readSync(t.dataId) as unknown as Uint8Array[];
}
