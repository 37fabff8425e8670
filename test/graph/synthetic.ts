// A small TF2-style SavedModel built in memory (no ../shared needed): a signature wrapper calls a function through
// StatefulPartitionedCall with two captured resource variables, and the body uses function-internal output names
// (`mm:product:0`, `relu:activations:0`) — the shapes that inlining, freezing, folding and fusion must handle.
//   y = 2 * relu(x @ W + b)     (x: [?, 4], W: [4, 3], b: [3])
import type { Checkpoint } from '../../src/core/savedmodel/checkpoint.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import type { MetaGraphDef, NodeDef } from '../../src/core/savedmodel/types.js';
import { modelSourceFrom, type ModelSource } from '../../src/core/graph/build.js';

export const W = Float32Array.from({ length: 12 }, (_, i) => (i % 5) * 0.25 - 0.5);
export const B = Float32Array.of(0.1, -0.2, 0.3);

/** The reference computation in plain JS. */
export function reference(x: Float32Array, rows: number): Float32Array {
  const out = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 3; c++) {
      let s = B[c]!;
      for (let k = 0; k < 4; k++) s += x[r * 4 + k]! * W[k * 3 + c]!;
      out[r * 3 + c] = 2 * Math.max(0, s);
    }
  }
  return out;
}

const f = (type: string) => ({ type });

function fakeCheckpoint(values: Record<string, HostTensor>): Checkpoint {
  return {
    prefix: 'memory',
    indexFile: 'memory.index',
    header: {},
    keys: () => Object.keys(values),
    has: (k: string) => k in values,
    entry: () => ({}),
    shape: (k: string) => values[k]!.shape,
    shardFile: () => 'memory.data',
    read: (k: string) => {
      const v = values[k];
      if (!v) throw new Error(`no ${k}`);
      return v;
    },
    objectGraph: () => ({
      nodes: [
        { children: [{ nodeId: 1, localName: 'w' }, { nodeId: 2, localName: 'b' }] },
        { attributes: [{ name: 'VARIABLE_VALUE', fullName: 'w', checkpointKey: 'w/.ATTRIBUTES/VARIABLE_VALUE' }] },
        { attributes: [{ name: 'VARIABLE_VALUE', fullName: 'b', checkpointKey: 'b/.ATTRIBUTES/VARIABLE_VALUE' }] },
      ],
    }),
  } as unknown as Checkpoint;
}

export function syntheticMeta(): MetaGraphDef {
  const body: NodeDef[] = [
    { name: 'w_read', op: 'ReadVariableOp', input: ['w_res'], attr: { dtype: f('DT_FLOAT') } },
    { name: 'b_read', op: 'ReadVariableOp', input: ['b_res'], attr: { dtype: f('DT_FLOAT') } },
    { name: 'mm', op: 'MatMul', input: ['x', 'w_read:value:0'], attr: { T: f('DT_FLOAT') } },
    { name: 'bias', op: 'BiasAdd', input: ['mm:product:0', 'b_read:value:0'], attr: { T: f('DT_FLOAT') } },
    { name: 'relu', op: 'Relu', input: ['bias:output:0'], attr: { T: f('DT_FLOAT') } },
    {
      name: 'two', op: 'Const', input: [],
      attr: { dtype: f('DT_FLOAT'), value: { tensor: { dtype: 'DT_FLOAT', tensorShape: {}, floatVal: [2] } } },
    },
    { name: 'scaled', op: 'Mul', input: ['relu:activations:0', 'two:output:0'], attr: { T: f('DT_FLOAT') } },
    { name: 'Identity', op: 'Identity', input: ['scaled:z:0', '^NoOp'], attr: { T: f('DT_FLOAT') } },
    { name: 'NoOp', op: 'NoOp', input: ['^w_read', '^b_read'] },
  ];
  // An outer wrapper calls the inner function, as TF2 signature wrappers do (nested inlining).
  const wrapper: NodeDef[] = [
    {
      name: 'inner', op: 'StatefulPartitionedCall', input: ['x', 'w_res', 'b_res'],
      attr: { f: { func: { name: '__inference_call_10' } }, Tin: { list: { type: ['DT_FLOAT', 'DT_RESOURCE', 'DT_RESOURCE'] } }, Tout: { list: { type: ['DT_FLOAT'] } } },
    },
    { name: 'Identity', op: 'Identity', input: ['inner:output:0'], attr: { T: f('DT_FLOAT') } },
  ];
  const args = [
    { name: 'x', type: 'DT_FLOAT' },
    { name: 'w_res', type: 'DT_RESOURCE' },
    { name: 'b_res', type: 'DT_RESOURCE' },
  ];
  return {
    metaInfoDef: { tags: ['serve'], strippedDefaultAttrs: true },
    graphDef: {
      node: [
        { name: 'w', op: 'VarHandleOp', attr: { dtype: f('DT_FLOAT'), shape: { shape: { dim: [{ size: 4 }, { size: 3 }] } }, shared_name: { s: Buffer.from('w_1') } } },
        { name: 'b', op: 'VarHandleOp', attr: { dtype: f('DT_FLOAT'), shape: { shape: { dim: [{ size: 3 }] } }, shared_name: { s: Buffer.from('b_1') } } },
        { name: 'serving_default_x', op: 'Placeholder', attr: { dtype: f('DT_FLOAT'), shape: { shape: { dim: [{ size: -1 }, { size: 4 }] } } } },
        {
          name: 'StatefulPartitionedCall', op: 'StatefulPartitionedCall', input: ['serving_default_x', 'w', 'b'],
          attr: { f: { func: { name: '__inference_signature_wrapper_20' } }, Tin: { list: { type: ['DT_FLOAT', 'DT_RESOURCE', 'DT_RESOURCE'] } }, Tout: { list: { type: ['DT_FLOAT'] } } },
        },
        // Save/restore machinery a real export has; pruning must drop it.
        { name: 'saver_filename', op: 'Placeholder', attr: { dtype: f('DT_STRING') } },
        { name: 'StatefulPartitionedCall_1', op: 'StatefulPartitionedCall', input: ['saver_filename', 'w', 'b'], attr: { f: { func: { name: '__inference__traced_save_30' } } } },
      ],
      library: {
        function: [
          { signature: { name: '__inference_call_10', inputArg: args, outputArg: [{ name: 'identity', type: 'DT_FLOAT' }] }, nodeDef: body, ret: { identity: 'Identity:output:0' } },
          { signature: { name: '__inference_signature_wrapper_20', inputArg: args, outputArg: [{ name: 'identity', type: 'DT_FLOAT' }] }, nodeDef: wrapper, ret: { identity: 'Identity:output:0' } },
          { signature: { name: '__inference__traced_save_30', inputArg: [{ name: 'p', type: 'DT_STRING' }], outputArg: [] }, nodeDef: [{ name: 'Nope', op: 'SaveV2', input: ['p'] }] },
        ],
      },
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'serving_default_x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }, { size: 4 }] } } },
        outputs: { y: { name: 'StatefulPartitionedCall:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }, { size: 3 }] } } },
      },
      __saved_model_init_op: { outputs: { __saved_model_init_op: { name: 'NoOp' } } },
    },
    objectGraphDef: {
      nodes: [{}, { variable: { name: 'w' } }, { variable: { name: 'b' } }],
      concreteFunctions: { __inference_signature_wrapper_20: { boundInputs: [1, 2] }, __inference_call_10: { boundInputs: [1, 2] } },
    },
  };
}

export function syntheticSource(meta: MetaGraphDef = syntheticMeta()): ModelSource {
  const checkpoint = fakeCheckpoint({
    'w/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 'DT_FLOAT', shape: [4, 3], data: W },
    'b/.ATTRIBUTES/VARIABLE_VALUE': { dtype: 'DT_FLOAT', shape: [3], data: B },
  });
  const files = { dir: '/memory', file: '/memory/saved_model.pb', savedModel: { metaGraphs: [meta] }, assets: [], assetsExtra: [] };
  return modelSourceFrom(files, meta, checkpoint);
}
