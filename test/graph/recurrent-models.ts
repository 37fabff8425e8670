// Hand-written SavedModels shaped like Keras 2's TF2 export of recurrent layers (keras.backend.rnn): the sequence is
// transposed to time-major and unstacked into a TensorList (TensorListFromTensor), the outputs are collected in a
// TensorListReserve'd list filled with TensorListSetItem, the loop is a StatelessWhile whose state is
// (loop_counter, maximum_iterations, time, output_list, *states, time_steps, input_list[, mask_list], *weights), its
// cond `loop_counter < maximum_iterations && time < time_steps`, and the outputs are TensorListStack'ed after it
// (transposed back for return_sequences, `[-1]` otherwise). A Masking layer (mask = any(x != 0) over features) keeps
// the previous state at masked steps, as Keras does. Each model has a plain-JS reference (`reference`) computing the
// same cell, so tests check answers without TensorFlow. Weights are loop-invariant arguments like TF's captured
// variables.
import type { AttrValue, FunctionDef, MetaGraphDef, NodeDef, TensorProto } from '../../src/core/savedmodel/types.js';

export type Cell = 'lstm' | 'gru' | 'simple';

export interface RnnOptions {
  cell: Cell;
  returnSequences: boolean;
  masking: boolean;
  features: number;
  units: number;
  /** Time steps the signature declares (-1: free). */
  time: number;
  /** Read the last output back with TensorListGetItem instead of stacking (a pattern tfsvc leaves to tfjs). */
  readLastItem?: boolean;
  /** A constant maximum_iterations (tf.while_loop's), instead of the number of time steps. */
  maxIterations?: number;
}

const t = (type: string): AttrValue => ({ type });
const types = (...ts: string[]): AttrValue => ({ list: { type: ts } });
const F = 'DT_FLOAT';
const I = 'DT_INT32';
const V = 'DT_VARIANT';
const B = 'DT_BOOL';

function ints(v: number[], shape = [v.length]): TensorProto {
  return { dtype: I, tensorShape: { dim: shape.map((size) => ({ size })) }, intVal: v };
}
function floats(v: Float32Array, shape: number[]): TensorProto {
  return { dtype: F, tensorShape: { dim: shape.map((size) => ({ size })) }, floatVal: [...v] };
}
const constNode = (name: string, tensor: TensorProto): NodeDef => ({ name, op: 'Const', input: [], attr: { dtype: t(tensor.dtype!), value: { tensor } } });
const scalarInt = (name: string, v: number) => constNode(name, ints([v], []));
const node = (name: string, op: string, input: string[], attr: Record<string, AttrValue> = {}): NodeDef => ({ name, op, input, attr });
const slice1 = (name: string, x: string, begin: string, end: string, strides: string, extra: Record<string, AttrValue> = {}): NodeDef =>
  node(name, 'StridedSlice', [x, begin, end, strides], {
    T: t(I), Index: t(I), begin_mask: { i: 0 }, end_mask: { i: 0 }, ellipsis_mask: { i: 0 }, new_axis_mask: { i: 0 }, shrink_axis_mask: { i: 1 }, ...extra,
  });

/** Gates per cell: LSTM i,f,c,o; GRU z,r,h; SimpleRNN one. */
export const GATES: Record<Cell, number> = { lstm: 4, gru: 3, simple: 1 };

export interface RnnWeights {
  kernel: Float32Array; // [features, gates*units]
  recurrent: Float32Array; // [units, gates*units]
  bias: Float32Array; // [gates*units]
  /** GRU reset_after only: the recurrent bias [3*units]. */
  recurrentBias?: Float32Array;
}

/** Deterministic small weights (a fixed LCG), so reference and graph use the same numbers. */
export function rnnWeights(o: Pick<RnnOptions, 'cell' | 'features' | 'units'>, seed = 7): RnnWeights {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 1.2 - 0.6;
  };
  const g = GATES[o.cell] * o.units;
  const fill = (n: number) => Float32Array.from({ length: n }, next);
  return { kernel: fill(o.features * g), recurrent: fill(o.units * g), bias: fill(g), ...(o.cell === 'gru' ? { recurrentBias: fill(g) } : {}) };
}

/** The cell's body nodes: from x_t (`x`) and states (`h`, `c`) to the new h (and c). Returns node list and refs. */
function cellNodes(o: RnnOptions, x: string): { nodes: NodeDef[]; h: string; c?: string } {
  const mm = (name: string, a: string, b: string) => node(name, 'MatMul', [a, b], { T: t(F), transpose_a: { b: false }, transpose_b: { b: false } });
  const bin = (name: string, op: string, a: string, b: string) => node(name, op, [a, b], { T: t(F) });
  const un = (name: string, op: string, a: string) => node(name, op, [a], { T: t(F) });
  const split = (name: string, x: string, n: number) => node(name, 'Split', ['split_dim:output:0', x], { T: t(F), num_split: { i: n } });
  const bias = (name: string, x: string, b: string) => node(name, 'BiasAdd', [x, b], { T: t(F), data_format: { s: Buffer.from('NHWC') } });
  const nodes: NodeDef[] = [scalarInt('split_dim', 1)];
  if (o.cell === 'simple') {
    nodes.push(mm('MatMul', x, 'kernel'), mm('MatMul_1', 'h', 'recurrent_kernel'), bin('add', 'AddV2', 'MatMul:product:0', 'MatMul_1:product:0'));
    nodes.push(bias('BiasAdd', 'add:z:0', 'bias'), un('Tanh', 'Tanh', 'BiasAdd:output:0'));
    return { nodes, h: 'Tanh:y:0' };
  }
  if (o.cell === 'lstm') {
    nodes.push(mm('MatMul', x, 'kernel'), mm('MatMul_1', 'h', 'recurrent_kernel'), bin('add', 'AddV2', 'MatMul:product:0', 'MatMul_1:product:0'));
    nodes.push(bias('BiasAdd', 'add:z:0', 'bias'), split('split', 'BiasAdd:output:0', 4));
    nodes.push(un('Sigmoid', 'Sigmoid', 'split:output:0'), un('Sigmoid_1', 'Sigmoid', 'split:output:1'), un('Tanh', 'Tanh', 'split:output:2'));
    nodes.push(un('Sigmoid_2', 'Sigmoid', 'split:output:3'));
    nodes.push(bin('mul', 'Mul', 'Sigmoid_1:y:0', 'c'), bin('mul_1', 'Mul', 'Sigmoid:y:0', 'Tanh:y:0'), bin('add_1', 'AddV2', 'mul:z:0', 'mul_1:z:0'));
    nodes.push(un('Tanh_1', 'Tanh', 'add_1:z:0'), bin('mul_2', 'Mul', 'Sigmoid_2:y:0', 'Tanh_1:y:0'));
    return { nodes, h: 'mul_2:z:0', c: 'add_1:z:0' };
  }
  // GRU, reset_after=True (Keras 2's default): hh = tanh(x Wh + bh + r * (h Uh + ubh)).
  nodes.push(mm('MatMul', x, 'kernel'), bias('BiasAdd', 'MatMul:product:0', 'bias'), split('split', 'BiasAdd:output:0', 3));
  nodes.push(mm('MatMul_1', 'h', 'recurrent_kernel'), bias('BiasAdd_1', 'MatMul_1:product:0', 'recurrent_bias'), split('split_1', 'BiasAdd_1:output:0', 3));
  nodes.push(bin('add', 'AddV2', 'split:output:0', 'split_1:output:0'), un('Sigmoid', 'Sigmoid', 'add:z:0'));
  nodes.push(bin('add_1', 'AddV2', 'split:output:1', 'split_1:output:1'), un('Sigmoid_1', 'Sigmoid', 'add_1:z:0'));
  nodes.push(bin('mul', 'Mul', 'Sigmoid_1:y:0', 'split_1:output:2'), bin('add_2', 'AddV2', 'split:output:2', 'mul:z:0'), un('Tanh', 'Tanh', 'add_2:z:0'));
  nodes.push(bin('mul_1', 'Mul', 'Sigmoid:y:0', 'h'), constNode('one', floats(Float32Array.of(1), [])), bin('sub', 'Sub', 'one:output:0', 'Sigmoid:y:0'));
  nodes.push(bin('mul_2', 'Mul', 'sub:z:0', 'Tanh:y:0'), bin('add_3', 'AddV2', 'mul_1:z:0', 'mul_2:z:0'));
  return { nodes, h: 'add_3:z:0' };
}

/** A SavedModel MetaGraphDef: signature serving_default, input `x` [-1, time, features] → output `y`. */
export function rnnMeta(o: RnnOptions, w: RnnWeights = rnnWeights(o)): MetaGraphDef {
  const u = o.units;
  const g = GATES[o.cell] * u;
  const states = o.cell === 'lstm' ? ['h', 'c'] : ['h'];
  const weightArgs: [string, Float32Array, number[]][] = [
    ['kernel', w.kernel, [o.features, g]],
    ['recurrent_kernel', w.recurrent, [u, g]],
    ['bias', w.bias, [g]],
    ...(o.cell === 'gru' ? ([['recurrent_bias', w.recurrentBias!, [g]]] as [string, Float32Array, number[]][]) : []),
  ];
  const args = [
    { name: 'loop_counter', type: I }, { name: 'maximum_iterations', type: I }, { name: 'time', type: I }, { name: 'output_list', type: V },
    ...states.map((s) => ({ name: s, type: F })),
    { name: 'time_steps', type: I }, { name: 'input_list', type: V },
    ...(o.masking ? [{ name: 'mask_list', type: V }] : []),
    ...weightArgs.map(([name]) => ({ name, type: F })),
  ];
  const outArgs = args.map((a) => ({ name: `${a.name}_out`, type: a.type }));

  // Body.
  const body: NodeDef[] = [
    constNode('element_shape', ints([-1, o.features])),
    node('x_t', 'TensorListGetItem', ['input_list', 'time', 'element_shape:output:0'], { element_dtype: t(F) }),
  ];
  const cell = cellNodes(o, 'x_t:item:0');
  body.push(...cell.nodes);
  let h = cell.h;
  let c = cell.c;
  if (o.masking) {
    body.push(constNode('mask_shape', ints([-1])));
    body.push(node('m_t', 'TensorListGetItem', ['mask_list', 'time', 'mask_shape:output:0'], { element_dtype: t(B) }));
    body.push(scalarInt('expand_dim', -1), node('m_e', 'ExpandDims', ['m_t:item:0', 'expand_dim:output:0'], { T: t(B), Tdim: t(I) }));
    body.push(constNode('multiples', ints([1, u])), node('m_tile', 'Tile', ['m_e:output:0', 'multiples:output:0'], { T: t(B), Tmultiples: t(I) }));
    body.push(node('h_masked', 'SelectV2', ['m_tile:output:0', h, 'h'], { T: t(F) }));
    h = 'h_masked:output:0';
    if (c) {
      body.push(node('c_masked', 'SelectV2', ['m_tile:output:0', c, 'c'], { T: t(F) }));
      c = 'c_masked:output:0';
    }
  }
  body.push(node('set', 'TensorListSetItem', ['output_list', 'time', h], { element_dtype: t(F) }));
  body.push(scalarInt('one_i', 1), node('time_1', 'AddV2', ['time', 'one_i:output:0'], { T: t(I) }), node('counter_1', 'AddV2', ['loop_counter', 'one_i:output:0'], { T: t(I) }));
  const idents: [string, string][] = [
    ['counter_1:z:0', I], ['maximum_iterations', I], ['time_1:z:0', I], ['set:output_handle:0', V], [h, F], ...(c ? [[c, F] as [string, string]] : []),
  ];
  idents.forEach(([ref, type], k) => body.push(node(`Identity_${k}`, 'Identity', [ref], { T: t(type) })));
  const ret: Record<string, string> = {};
  args.forEach((a, k) => (ret[outArgs[k]!.name] = k < idents.length ? `Identity_${k}:output:0` : a.name));
  const bodyFn: FunctionDef = { signature: { name: 'rnn_while_body_10', inputArg: args, outputArg: outArgs }, nodeDef: body, ret };

  const condFn: FunctionDef = {
    signature: { name: 'rnn_while_cond_9', inputArg: args, outputArg: [{ name: 'identity', type: B }] },
    nodeDef: [
      node('Less', 'Less', ['loop_counter', 'maximum_iterations'], { T: t(I) }),
      node('Less_1', 'Less', ['time', 'time_steps'], { T: t(I) }),
      node('LogicalAnd', 'LogicalAnd', ['Less:z:0', 'Less_1:z:0']),
      node('Identity', 'Identity', ['LogicalAnd:z:0'], { T: t(B) }),
    ],
    ret: { identity: 'Identity:output:0' },
  };

  // Main graph.
  const main: NodeDef[] = [{ name: 'x', op: 'Placeholder', input: [], attr: { dtype: t(F), shape: { shape: { dim: [{ size: -1 }, { size: o.time }, { size: o.features }] } } } }];
  let seq = 'x';
  if (o.masking) {
    main.push(constNode('mask_value', floats(Float32Array.of(0), [])), node('masking/NotEqual', 'NotEqual', ['x', 'mask_value'], { T: t(F) }));
    main.push(scalarInt('masking/axis', -1), node('masking/Any', 'Any', ['masking/NotEqual', 'masking/axis'], { Tidx: t(I), keep_dims: { b: true } }));
    main.push(node('masking/Cast', 'Cast', ['masking/Any'], { SrcT: t(B), DstT: t(F) }), node('masking/mul', 'Mul', ['x', 'masking/Cast'], { T: t(F) }));
    main.push(node('masking/Squeeze', 'Squeeze', ['masking/Any'], { T: t(B), squeeze_dims: { list: { i: [-1] } } }));
    main.push(constNode('mask_perm', ints([1, 0])), node('mask_t', 'Transpose', ['masking/Squeeze', 'mask_perm'], { T: t(B), Tperm: t(I) }));
    main.push(constNode('mask_list/element_shape', ints([-1])));
    main.push(node('mask_list', 'TensorListFromTensor', ['mask_t', 'mask_list/element_shape'], { element_dtype: t(B), shape_type: t(I) }));
    seq = 'masking/mul';
  }
  main.push(constNode('perm', ints([1, 0, 2])), node('transpose', 'Transpose', [seq, 'perm'], { T: t(F), Tperm: t(I) }));
  main.push(node('Shape', 'Shape', ['transpose'], { T: t(F), out_type: t(I) }), node('Shape_x', 'Shape', ['x'], { T: t(F), out_type: t(I) }));
  main.push(constNode('s0', ints([0])), constNode('s1', ints([1])));
  main.push(slice1('time_steps', 'Shape', 's0', 's1', 's1'), slice1('batch', 'Shape_x', 's0', 's1', 's1'));
  main.push(scalarInt('units', u), node('zeros/packed', 'Pack', ['batch', 'units'], { T: t(I), N: { i: 2 }, axis: { i: 0 } }));
  main.push(constNode('zeros/value', floats(Float32Array.of(0), [])), node('zeros', 'Fill', ['zeros/packed', 'zeros/value'], { T: t(F), index_type: t(I) }));
  main.push(constNode('input_list/element_shape', ints([-1, o.features])));
  main.push(node('input_list', 'TensorListFromTensor', ['transpose', 'input_list/element_shape'], { element_dtype: t(F), shape_type: t(I) }));
  main.push(constNode('output_list/element_shape', ints([-1, u])));
  main.push(node('output_list', 'TensorListReserve', ['output_list/element_shape', 'time_steps'], { element_dtype: t(F), shape_type: t(I) }));
  main.push(scalarInt('time', 0), scalarInt('loop_counter', 0));
  if (o.maxIterations !== undefined) main.push(scalarInt('maximum_iterations', o.maxIterations));
  for (const [name, v, shape] of weightArgs) main.push(constNode(`rnn/${name}`, floats(v, shape)));
  const loopInputs = [
    'loop_counter', o.maxIterations === undefined ? 'time_steps' : 'maximum_iterations', 'time', 'output_list', ...states.map(() => 'zeros'), 'time_steps', 'input_list',
    ...(o.masking ? ['mask_list'] : []), ...weightArgs.map(([name]) => `rnn/${name}`),
  ];
  main.push(node('rnn/while', 'StatelessWhile', loopInputs, {
    T: types(...args.map((a) => a.type)), cond: { func: { name: 'rnn_while_cond_9' } }, body: { func: { name: 'rnn_while_body_10' } },
    output_shapes: { list: { shape: args.map(() => ({ unknownRank: true })) } }, parallel_iterations: { i: 32 },
  }));
  let y: string;
  if (o.readLastItem) {
    main.push(scalarInt('last/one', 1), node('last/index', 'Sub', ['time_steps', 'last/one'], { T: t(I) }));
    main.push(node('y', 'TensorListGetItem', ['rnn/while:3', 'last/index', 'output_list/element_shape'], { element_dtype: t(F) }));
    y = 'y';
  } else {
    main.push(node('stack', 'TensorListStack', ['rnn/while:3', 'output_list/element_shape'], { element_dtype: t(F), num_elements: { i: -1 } }));
    if (o.returnSequences) {
      main.push(node('y', 'Transpose', ['stack', 'perm'], { T: t(F), Tperm: t(I) }));
    } else {
      main.push(constNode('last/begin', ints([-1])), constNode('last/end', ints([0])));
      main.push(slice1('y', 'stack', 'last/begin', 'last/end', 's1', { T: t(F), end_mask: { i: 1 } }));
    }
    y = 'y';
  }
  const outShape = o.returnSequences && !o.readLastItem ? [-1, o.time, u] : [-1, u];
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: { node: main, library: { function: [condFn, bodyFn] } },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: F, tensorShape: { dim: [{ size: -1 }, { size: o.time }, { size: o.features }] } } },
        outputs: { y: { name: `${y}:0`, dtype: F, tensorShape: { dim: outShape.map((size) => ({ size })) } } },
      },
    },
  };
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** What the graph computes, in plain JS (float64): x is [batch, time, features] row-major; returns y row-major. */
export function reference(o: RnnOptions, w: RnnWeights, x: Float32Array, batch: number, time: number): Float64Array {
  const u = o.units;
  const g = GATES[o.cell] * u;
  const out = new Float64Array(batch * (o.returnSequences ? time : 1) * u);
  for (let b = 0; b < batch; b++) {
    let h = new Float64Array(u);
    let c = new Float64Array(u);
    for (let s = 0; s < time; s++) {
      const xt = Array.from({ length: o.features }, (_, f) => x[(b * time + s) * o.features + f]!);
      const masked = o.masking && xt.every((v) => v === 0);
      const xw = new Float64Array(g);
      const hu = new Float64Array(g);
      for (let j = 0; j < g; j++) {
        for (let f = 0; f < o.features; f++) xw[j] += xt[f]! * w.kernel[f * g + j]!;
        for (let k = 0; k < u; k++) hu[j] += h[k]! * w.recurrent[k * g + j]!;
      }
      const nh = new Float64Array(u);
      const nc = new Float64Array(u);
      for (let k = 0; k < u; k++) {
        if (o.cell === 'simple') nh[k] = Math.tanh(xw[k]! + hu[k]! + w.bias[k]!);
        else if (o.cell === 'lstm') {
          const z = (q: number) => xw[q * u + k]! + hu[q * u + k]! + w.bias[q * u + k]!;
          nc[k] = sigmoid(z(1)) * c[k]! + sigmoid(z(0)) * Math.tanh(z(2));
          nh[k] = sigmoid(z(3)) * Math.tanh(nc[k]!);
        } else {
          const xb = (q: number) => xw[q * u + k]! + w.bias[q * u + k]!;
          const hb = (q: number) => hu[q * u + k]! + w.recurrentBias![q * u + k]!;
          const z = sigmoid(xb(0) + hb(0));
          const r = sigmoid(xb(1) + hb(1));
          const hh = Math.tanh(xb(2) + r * hb(2));
          nh[k] = z * h[k]! + (1 - z) * hh;
        }
      }
      if (!masked) {
        h = nh;
        c = nc;
      }
      if (o.returnSequences) out.set(h, (b * time + s) * u);
      else if (s === time - 1) out.set(h, b * u);
    }
  }
  return out;
}

/**
 * Two recurrent layers stacked (Keras `LSTM(return_sequences=True)` then another layer): the first layer's `y`
 * [batch, time, units1] is the second's input. The second layer's nodes are named under `l2/` and its loop functions
 * get a `_l2` suffix, so the graph holds two While loops.
 */
export function stackedRnnMeta(first: RnnOptions, second: RnnOptions, w1: RnnWeights, w2: RnnWeights): MetaGraphDef {
  return combine(rnnMeta({ ...first, returnSequences: true }, w1), rnnMeta(second, w2), 'l2', 'y', 'l2/y:0');
}

/**
 * Keras `Bidirectional(layer)` with merge_mode concat: a forward loop on x and a backward loop on x reversed in time
 * (ReverseV2 before the loop, and after it for return_sequences), outputs concatenated on the last axis.
 */
export function bidirectionalRnnMeta(o: RnnOptions, forward: RnnWeights, backward: RnnWeights): MetaGraphDef {
  const meta = combine(rnnMeta(o, forward), rnnMeta(o, backward), 'bw', 'bw/x_reversed', 'bw_out:0');
  const nodes = meta.graphDef!.node!;
  nodes.push(constNode('time_axis', ints([1])), node('bw/x_reversed', 'ReverseV2', ['x', 'time_axis'], { T: t(F), Tidx: t(I) }));
  let back = 'bw/y';
  if (o.returnSequences) {
    nodes.push(node('bw/y_reversed', 'ReverseV2', ['bw/y', 'time_axis'], { T: t(F), Tidx: t(I) }));
    back = 'bw/y_reversed';
  }
  nodes.push(scalarInt('concat_axis', -1), node('bw_out', 'ConcatV2', ['y', back, 'concat_axis'], { T: t(F), N: { i: 2 }, Tidx: t(I) }));
  const out = meta.signatureDef!.serving_default!.outputs!.y!;
  out.tensorShape = { dim: [...out.tensorShape!.dim!.slice(0, -1), { size: 2 * o.units }] };
  return meta;
}

/** `a` plus `b`'s nodes under `prefix/` (its loop functions suffixed `_prefix`), b's input x read from `bInput`. */
function combine(a: MetaGraphDef, b: MetaGraphDef, prefix: string, bInput: string, output: string): MetaGraphDef {
  const rename = (name: string) => (name === 'x' ? bInput : `${prefix}/${name}`);
  const renameRef = (ref: string) => {
    const i = ref.lastIndexOf(':');
    return i > 0 && /^\d+$/.test(ref.slice(i + 1)) ? `${rename(ref.slice(0, i))}${ref.slice(i)}` : rename(ref);
  };
  const nodes = b.graphDef!.node!.filter((n) => n.name !== 'x').map((n) => {
    const attr = { ...n.attr };
    for (const k of ['cond', 'body']) if (attr[k]?.func?.name) attr[k] = { func: { name: `${attr[k]!.func!.name}_${prefix}` } };
    return { ...n, name: rename(n.name!), input: (n.input ?? []).map(renameRef), attr };
  });
  const fns = b.graphDef!.library!.function!.map((f) => ({ ...f, signature: { ...f.signature, name: `${f.signature!.name}_${prefix}` } }));
  const sig = b.signatureDef!.serving_default!;
  return {
    ...a,
    graphDef: { node: [...a.graphDef!.node!, ...nodes], library: { function: [...a.graphDef!.library!.function!, ...fns] } },
    signatureDef: {
      serving_default: { ...sig, inputs: a.signatureDef!.serving_default!.inputs, outputs: { y: { ...sig.outputs!.y!, name: output } } },
    },
  };
}

/** x [batch, time, features] reversed along time. */
export function reverseTime(x: ArrayLike<number>, batch: number, time: number, width: number): Float32Array {
  const out = new Float32Array(batch * time * width);
  for (let b = 0; b < batch; b++) for (let s = 0; s < time; s++) for (let f = 0; f < width; f++) out[(b * time + s) * width + f] = x[(b * time + (time - 1 - s)) * width + f]!;
  return out;
}
