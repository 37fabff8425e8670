// Hand-written SavedModels with control flow, in the shape TF2's tf.function export gives them (a signature wrapper
// calls the traced function through StatefulPartitionedCall; While/If name their cond/body/branch functions; bodies
// use function-internal names `add:z:0`; captured tensors and variables are extra loop-carried arguments; a While's
// first two arguments are the loop counter and maximum_iterations), plus a TF1 while loop. Used by
// control-flow.test.ts; plain MetaGraphDef objects, written with encodePlain('tensorflow.SavedModel', ...).
import type { Checkpoint } from '../../src/core/savedmodel/checkpoint.js';
import type { AttrValue, FunctionDef, MetaGraphDef, NodeDef, TensorProto } from '../../src/core/savedmodel/types.js';

const t = (type: string) => ({ type });
const types = (...ts: string[]): AttrValue => ({ list: { type: ts } });
const scalarShapes = (n: number): AttrValue => ({ list: { shape: Array.from({ length: n }, () => ({})) } });
const fn = (name: string): AttrValue => ({ func: { name } });
const i32 = (v: number): TensorProto => ({ dtype: 'DT_INT32', tensorShape: {}, intVal: [v] });
const f32 = (v: number): TensorProto => ({ dtype: 'DT_FLOAT', tensorShape: {}, floatVal: [v] });
const constNode = (name: string, tensor: TensorProto): NodeDef => ({ name, op: 'Const', attr: { dtype: t(tensor.dtype!), value: { tensor } } });
const arg = (name: string, type: string) => ({ name, type });

/** `StatefulPartitionedCall` of `f` from the top-level graph, as signature wrappers are called. */
function call(name: string, f: string, input: string[], tin: string[], tout: string[]): NodeDef {
  return { name, op: 'StatefulPartitionedCall', input, attr: { f: fn(f), Tin: types(...tin), Tout: types(...tout) } };
}

/**
 * (a) sum = Σ i for i in [0, n): tf.while_loop in a tf.function. The loop state is (counter, max_iterations, i, acc)
 * plus the captured `n`; the body adds through a nested PartitionedCall (inlined inside the body).
 */
export function whileSumMeta(): MetaGraphDef {
  const loopArgs = [arg('while_loop_counter', 'DT_INT32'), arg('while_maximum_iterations', 'DT_INT32'), arg('placeholder', 'DT_INT32'), arg('placeholder_1', 'DT_INT32'), arg('less_n', 'DT_INT32')];
  const cond: FunctionDef = {
    signature: { name: '__inference_while_cond_15', inputArg: loopArgs, outputArg: [arg('identity', 'DT_BOOL')] },
    nodeDef: [
      { name: 'Less', op: 'Less', input: ['placeholder', 'less_n'], attr: { T: t('DT_INT32') } },
      { name: 'Identity', op: 'Identity', input: ['Less:z:0'], attr: { T: t('DT_BOOL') } },
    ],
    ret: { identity: 'Identity:output:0' },
  };
  const add: FunctionDef = {
    signature: { name: '__inference_add_7', inputArg: [arg('a', 'DT_INT32'), arg('b', 'DT_INT32')], outputArg: [arg('identity', 'DT_INT32')] },
    nodeDef: [
      { name: 'add', op: 'AddV2', input: ['a', 'b'], attr: { T: t('DT_INT32') } },
      { name: 'Identity', op: 'Identity', input: ['add:z:0'], attr: { T: t('DT_INT32') } },
    ],
    ret: { identity: 'Identity:output:0' },
  };
  const body: FunctionDef = {
    signature: {
      name: '__inference_while_body_16',
      inputArg: loopArgs,
      outputArg: ['identity', 'identity_1', 'identity_2', 'identity_3', 'less_n'].map((n) => arg(n, 'DT_INT32')),
    },
    nodeDef: [
      constNode('add/y', i32(1)),
      { name: 'add', op: 'AddV2', input: ['placeholder', 'add/y:output:0'], attr: { T: t('DT_INT32') } },
      {
        name: 'PartitionedCall', op: 'PartitionedCall', input: ['placeholder_1', 'placeholder'],
        attr: { f: fn('__inference_add_7'), Tin: types('DT_INT32', 'DT_INT32'), Tout: types('DT_INT32') },
      },
      constNode('add_1/y', i32(1)),
      { name: 'add_1', op: 'AddV2', input: ['while_loop_counter', 'add_1/y:output:0'], attr: { T: t('DT_INT32') } },
      { name: 'Identity', op: 'Identity', input: ['add_1:z:0'], attr: { T: t('DT_INT32') } },
      { name: 'Identity_1', op: 'Identity', input: ['while_maximum_iterations'], attr: { T: t('DT_INT32') } },
      { name: 'Identity_2', op: 'Identity', input: ['add:z:0'], attr: { T: t('DT_INT32') } },
      { name: 'Identity_3', op: 'Identity', input: ['PartitionedCall:output:0', '^Identity_2'], attr: { T: t('DT_INT32') } },
    ],
    ret: { identity: 'Identity:output:0', identity_1: 'Identity_1:output:0', identity_2: 'Identity_2:output:0', identity_3: 'Identity_3:output:0', less_n: 'less_n' },
  };
  const traced: FunctionDef = {
    signature: { name: '__inference_sum_to_30', inputArg: [arg('n', 'DT_INT32')], outputArg: [arg('identity', 'DT_INT32')] },
    nodeDef: [
      constNode('Const', i32(0)),
      constNode('Const_1', i32(0)),
      constNode('while/maximum_iterations', i32(-1)),
      constNode('while/loop_counter', i32(0)),
      {
        name: 'while', op: 'StatelessWhile',
        input: ['while/loop_counter:output:0', 'while/maximum_iterations:output:0', 'Const:output:0', 'Const_1:output:0', 'n'],
        attr: {
          T: types('DT_INT32', 'DT_INT32', 'DT_INT32', 'DT_INT32', 'DT_INT32'),
          cond: fn('__inference_while_cond_15'), body: fn('__inference_while_body_16'),
          output_shapes: scalarShapes(5), parallel_iterations: { i: 10 }, _lower_using_switch_merge: { b: true }, _num_original_outputs: { i: 5 },
        },
      },
      { name: 'Identity', op: 'Identity', input: ['while:output:3'], attr: { T: t('DT_INT32') } },
    ],
    ret: { identity: 'Identity:output:0' },
  };
  const wrapper: FunctionDef = {
    signature: { name: '__inference_signature_wrapper_40', inputArg: [arg('n', 'DT_INT32')], outputArg: [arg('identity', 'DT_INT32')] },
    nodeDef: [call('StatefulPartitionedCall', '__inference_sum_to_30', ['n'], ['DT_INT32'], ['DT_INT32']), { name: 'Identity', op: 'Identity', input: ['StatefulPartitionedCall:output:0'], attr: { T: t('DT_INT32') } }],
    ret: { identity: 'Identity:output:0' },
  };
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'serving_default_n', op: 'Placeholder', attr: { dtype: t('DT_INT32'), shape: { shape: {} } } },
        call('StatefulPartitionedCall', '__inference_signature_wrapper_40', ['serving_default_n'], ['DT_INT32'], ['DT_INT32']),
      ],
      library: { function: [cond, body, add, traced, wrapper] },
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { n: { name: 'serving_default_n:0', dtype: 'DT_INT32', tensorShape: {} } },
        outputs: { sum: { name: 'StatefulPartitionedCall:0', dtype: 'DT_INT32', tensorShape: {} } },
      },
    },
  };
}

/** (b) y = pred ? x * 2 : x + 100, tf.cond in a tf.function (StatelessIf with then/else functions). */
export function ifMeta(): MetaGraphDef {
  const branch = (name: string, op: string, c: number): FunctionDef => ({
    signature: { name, inputArg: [arg('x', 'DT_FLOAT')], outputArg: [arg('identity', 'DT_FLOAT')] },
    nodeDef: [
      constNode(`${op.toLowerCase()}/y`, f32(c)),
      { name: op.toLowerCase(), op, input: ['x', `${op.toLowerCase()}/y:output:0`], attr: { T: t('DT_FLOAT') } },
      { name: 'Identity', op: 'Identity', input: [`${op.toLowerCase()}:z:0`], attr: { T: t('DT_FLOAT') } },
    ],
    ret: { identity: 'Identity:output:0' },
  });
  const traced: FunctionDef = {
    signature: { name: '__inference_choose_20', inputArg: [arg('x', 'DT_FLOAT'), arg('pred', 'DT_BOOL')], outputArg: [arg('identity', 'DT_FLOAT')] },
    nodeDef: [
      {
        name: 'cond', op: 'StatelessIf', input: ['pred', 'x'],
        attr: {
          Tcond: t('DT_BOOL'), Tin: types('DT_FLOAT'), Tout: types('DT_FLOAT'),
          then_branch: fn('__inference_cond_true_8'), else_branch: fn('__inference_cond_false_9'),
          output_shapes: { list: { shape: [{ dim: [{ size: -1 }] }] } }, _lower_using_switch_merge: { b: true },
        },
      },
      { name: 'Identity', op: 'Identity', input: ['cond:output:0'], attr: { T: t('DT_FLOAT') } },
    ],
    ret: { identity: 'Identity:output:0' },
  };
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'serving_default_x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } },
        { name: 'serving_default_pred', op: 'Placeholder', attr: { dtype: t('DT_BOOL') } },
        call('StatefulPartitionedCall', '__inference_choose_20', ['serving_default_x', 'serving_default_pred'], ['DT_FLOAT', 'DT_BOOL'], ['DT_FLOAT']),
      ],
      library: { function: [branch('__inference_cond_true_8', 'Mul', 2), branch('__inference_cond_false_9', 'AddV2', 100), traced] },
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: {
          x: { name: 'serving_default_x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }] } },
          pred: { name: 'serving_default_pred:0', dtype: 'DT_BOOL', tensorShape: {} },
        },
        outputs: { y: { name: 'StatefulPartitionedCall:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }] } } },
      },
    },
  };
}

export const V = Float32Array.of(0.5, -1, 2);

/**
 * (c) y = x + n * v for a variable v, as `for _ in tf.range(n): x += v` exports: the variable's handle is a captured
 * input of the signature's function, and the While carries it as its last argument (DT_RESOURCE) into the cond (which
 * ignores it) and the body (which reads it with ReadVariableOp and returns the handle unchanged).
 */
export function whileVariableMeta(): MetaGraphDef {
  const loopArgs = [
    arg('while_loop_counter', 'DT_INT32'), arg('while_maximum_iterations', 'DT_INT32'), arg('placeholder', 'DT_INT32'),
    arg('placeholder_1', 'DT_FLOAT'), arg('less_n', 'DT_INT32'), arg('readvariableop_resource', 'DT_RESOURCE'),
  ];
  const cond: FunctionDef = {
    signature: { name: '__inference_while_cond_50', inputArg: loopArgs, outputArg: [arg('identity', 'DT_BOOL')] },
    nodeDef: [
      { name: 'Less', op: 'Less', input: ['placeholder', 'less_n'], attr: { T: t('DT_INT32') } },
      { name: 'Identity', op: 'Identity', input: ['Less:z:0'], attr: { T: t('DT_BOOL') } },
    ],
    ret: { identity: 'Identity:output:0' },
  };
  const body: FunctionDef = {
    signature: {
      name: '__inference_while_body_51',
      inputArg: loopArgs,
      outputArg: [
        arg('identity', 'DT_INT32'), arg('identity_1', 'DT_INT32'), arg('identity_2', 'DT_INT32'), arg('identity_3', 'DT_FLOAT'),
        arg('less_n', 'DT_INT32'), arg('readvariableop_resource', 'DT_RESOURCE'),
      ],
    },
    nodeDef: [
      { name: 'ReadVariableOp', op: 'ReadVariableOp', input: ['readvariableop_resource'], attr: { dtype: t('DT_FLOAT') } },
      { name: 'add', op: 'AddV2', input: ['placeholder_1', 'ReadVariableOp:value:0'], attr: { T: t('DT_FLOAT') } },
      constNode('add_1/y', i32(1)),
      { name: 'add_1', op: 'AddV2', input: ['placeholder', 'add_1/y:output:0'], attr: { T: t('DT_INT32') } },
      constNode('add_2/y', i32(1)),
      { name: 'add_2', op: 'AddV2', input: ['while_loop_counter', 'add_2/y:output:0'], attr: { T: t('DT_INT32') } },
      { name: 'Identity', op: 'Identity', input: ['add_2:z:0'], attr: { T: t('DT_INT32') } },
      { name: 'Identity_1', op: 'Identity', input: ['while_maximum_iterations'], attr: { T: t('DT_INT32') } },
      { name: 'Identity_2', op: 'Identity', input: ['add_1:z:0'], attr: { T: t('DT_INT32') } },
      { name: 'Identity_3', op: 'Identity', input: ['add:z:0', '^ReadVariableOp'], attr: { T: t('DT_FLOAT') } },
    ],
    ret: {
      identity: 'Identity:output:0', identity_1: 'Identity_1:output:0', identity_2: 'Identity_2:output:0', identity_3: 'Identity_3:output:0',
      less_n: 'less_n', readvariableop_resource: 'readvariableop_resource',
    },
  };
  const traced: FunctionDef = {
    signature: {
      name: '__inference_accumulate_60',
      inputArg: [arg('x', 'DT_FLOAT'), arg('n', 'DT_INT32'), arg('readvariableop_resource', 'DT_RESOURCE')],
      outputArg: [arg('identity', 'DT_FLOAT')],
    },
    nodeDef: [
      constNode('Const', i32(0)),
      constNode('while/maximum_iterations', i32(-1)),
      constNode('while/loop_counter', i32(0)),
      {
        name: 'while', op: 'While',
        input: ['while/loop_counter:output:0', 'while/maximum_iterations:output:0', 'Const:output:0', 'x', 'n', 'readvariableop_resource'],
        attr: {
          T: types('DT_INT32', 'DT_INT32', 'DT_INT32', 'DT_FLOAT', 'DT_INT32', 'DT_RESOURCE'),
          cond: fn('__inference_while_cond_50'), body: fn('__inference_while_body_51'),
          output_shapes: { list: { shape: [{}, {}, {}, { dim: [{ size: 3 }] }, {}, {}] } }, parallel_iterations: { i: 10 },
          _lower_using_switch_merge: { b: true }, _read_only_resource_inputs: { list: { i: [5] } },
        },
      },
      { name: 'Identity', op: 'Identity', input: ['while:output:3', '^while'], attr: { T: t('DT_FLOAT') } },
    ],
    ret: { identity: 'Identity:output:0' },
  };
  const tin = ['DT_FLOAT', 'DT_INT32', 'DT_RESOURCE'];
  const wrapper: FunctionDef = {
    signature: { name: '__inference_signature_wrapper_70', inputArg: traced.signature!.inputArg, outputArg: [arg('identity', 'DT_FLOAT')] },
    nodeDef: [
      call('StatefulPartitionedCall', '__inference_accumulate_60', ['x', 'n', 'readvariableop_resource'], tin, ['DT_FLOAT']),
      { name: 'Identity', op: 'Identity', input: ['StatefulPartitionedCall:output:0'], attr: { T: t('DT_FLOAT') } },
    ],
    ret: { identity: 'Identity:output:0' },
  };
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'v', op: 'VarHandleOp', attr: { dtype: t('DT_FLOAT'), shape: { shape: { dim: [{ size: 3 }] } }, shared_name: { s: Buffer.from('v') } } },
        { name: 'serving_default_x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT'), shape: { shape: { dim: [{ size: 3 }] } } } },
        { name: 'serving_default_n', op: 'Placeholder', attr: { dtype: t('DT_INT32'), shape: { shape: {} } } },
        call('StatefulPartitionedCall', '__inference_signature_wrapper_70', ['serving_default_x', 'serving_default_n', 'v'], tin, ['DT_FLOAT']),
      ],
      library: { function: [cond, body, traced, wrapper] },
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: {
          x: { name: 'serving_default_x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 3 }] } },
          n: { name: 'serving_default_n:0', dtype: 'DT_INT32', tensorShape: {} },
        },
        outputs: { y: { name: 'StatefulPartitionedCall:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 3 }] } } },
      },
    },
    objectGraphDef: {
      nodes: [{}, { variable: { name: 'v' } }],
      concreteFunctions: { __inference_signature_wrapper_70: { boundInputs: [1] } },
    },
  };
}

/** The checkpoint of (c): one variable, found through the object graph the way TF's loader finds it. */
export function variableCheckpoint(): Checkpoint {
  const key = 'v/.ATTRIBUTES/VARIABLE_VALUE';
  return {
    prefix: 'memory',
    keys: () => [key],
    has: (k: string) => k === key,
    read: (k: string) => {
      if (k !== key) throw new Error(`no ${k}`);
      return { dtype: 'DT_FLOAT', shape: [3], data: V };
    },
    objectGraph: () => ({
      nodes: [{ children: [{ nodeId: 1, localName: 'v' }] }, { attributes: [{ name: 'VARIABLE_VALUE', fullName: 'v', checkpointKey: key }] }],
    }),
  } as unknown as Checkpoint;
}

/** (d) TF1 tf.while_loop (no functions): i, acc = 0, 0; while i < n: acc += i; i += 1. */
export function tf1WhileMeta(): MetaGraphDef {
  const frame = { frame_name: { s: Buffer.from('while/while_context') }, is_constant: { b: false }, parallel_iterations: { i: 10 }, T: t('DT_INT32') };
  const n = (name: string, op: string, input: string[], attr: Record<string, AttrValue> = { T: t('DT_INT32') }): NodeDef => ({ name, op, input, attr });
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'n', op: 'Placeholder', attr: { dtype: t('DT_INT32'), shape: { shape: {} } } },
        constNode('zero', i32(0)),
        n('while/Enter', 'Enter', ['zero'], frame),
        n('while/Enter_1', 'Enter', ['zero'], frame),
        n('while/Enter_2', 'Enter', ['n'], { ...frame, is_constant: { b: true } }),
        n('while/Merge', 'Merge', ['while/Enter', 'while/NextIteration'], { T: t('DT_INT32'), N: { i: 2 } }),
        n('while/Merge_1', 'Merge', ['while/Enter_1', 'while/NextIteration_1'], { T: t('DT_INT32'), N: { i: 2 } }),
        n('while/Less', 'Less', ['while/Merge', 'while/Enter_2']),
        n('while/LoopCond', 'LoopCond', ['while/Less'], {}),
        n('while/Switch', 'Switch', ['while/Merge', 'while/LoopCond']),
        n('while/Switch_1', 'Switch', ['while/Merge_1', 'while/LoopCond']),
        n('while/Identity', 'Identity', ['while/Switch:1']),
        n('while/Identity_1', 'Identity', ['while/Switch_1:1']),
        { ...constNode('while/add/y', i32(1)), input: ['^while/Identity'] },
        n('while/add', 'Add', ['while/Identity', 'while/add/y']),
        n('while/add_1', 'Add', ['while/Identity_1', 'while/Identity']),
        n('while/NextIteration', 'NextIteration', ['while/add']),
        n('while/NextIteration_1', 'NextIteration', ['while/add_1']),
        n('while/Exit', 'Exit', ['while/Switch']),
        n('while/Exit_1', 'Exit', ['while/Switch_1']),
        n('sum', 'Identity', ['while/Exit_1']),
      ],
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { n: { name: 'n:0', dtype: 'DT_INT32', tensorShape: {} } },
        outputs: { sum: { name: 'sum:0', dtype: 'DT_INT32', tensorShape: {} } },
      },
    },
  };
}

/**
 * (e) Fibonacci: (a, b) = (0, 1); repeat n times: (a, b) = (b, a + b). The body returns both outputs of one IdentityN
 * node (`idn:output:0`, `idn:output:1`), which tfjs's function executor cannot fetch directly; and (b') a tf.cond
 * whose else branch returns its argument unchanged.
 */
export function fibonacciMeta(): MetaGraphDef {
  const loopArgs = [arg('i', 'DT_INT32'), arg('a', 'DT_INT32'), arg('b', 'DT_INT32'), arg('n', 'DT_INT32')];
  const cond: FunctionDef = {
    signature: { name: 'fib_cond', inputArg: loopArgs, outputArg: [arg('identity', 'DT_BOOL')] },
    nodeDef: [{ name: 'Less', op: 'Less', input: ['i', 'n'], attr: { T: t('DT_INT32') } }],
    ret: { identity: 'Less:z:0' },
  };
  const body: FunctionDef = {
    signature: { name: 'fib_body', inputArg: loopArgs, outputArg: ['i1', 'a1', 'b1', 'n1'].map((n) => arg(n, 'DT_INT32')) },
    nodeDef: [
      constNode('one', i32(1)),
      { name: 'next_i', op: 'AddV2', input: ['i', 'one:output:0'], attr: { T: t('DT_INT32') } },
      { name: 'sum', op: 'AddV2', input: ['a', 'b'], attr: { T: t('DT_INT32') } },
      { name: 'idn', op: 'IdentityN', input: ['b', 'sum:z:0'], attr: { T: types('DT_INT32', 'DT_INT32') } },
    ],
    ret: { i1: 'next_i:z:0', a1: 'idn:output:0', b1: 'idn:output:1', n1: 'n' },
  };
  const keep: FunctionDef = {
    signature: { name: 'keep_x', inputArg: [arg('x', 'DT_INT32')], outputArg: [arg('identity', 'DT_INT32')] },
    nodeDef: [],
    ret: { identity: 'x' },
  };
  const negate: FunctionDef = {
    signature: { name: 'negate_x', inputArg: [arg('x', 'DT_INT32')], outputArg: [arg('identity', 'DT_INT32')] },
    nodeDef: [{ name: 'neg', op: 'Neg', input: ['x'], attr: { T: t('DT_INT32') } }],
    ret: { identity: 'neg:y:0' },
  };
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'n', op: 'Placeholder', attr: { dtype: t('DT_INT32') } },
        { name: 'negative', op: 'Placeholder', attr: { dtype: t('DT_BOOL') } },
        constNode('zero', i32(0)),
        constNode('one', i32(1)),
        {
          name: 'loop', op: 'StatelessWhile', input: ['zero', 'zero', 'one', 'n'],
          attr: { T: types('DT_INT32', 'DT_INT32', 'DT_INT32', 'DT_INT32'), cond: fn('fib_cond'), body: fn('fib_body'), output_shapes: scalarShapes(4), parallel_iterations: { i: 10 } },
        },
        {
          name: 'sign', op: 'StatelessIf', input: ['negative', 'loop:1'],
          attr: { Tcond: t('DT_BOOL'), Tin: types('DT_INT32'), Tout: types('DT_INT32'), then_branch: fn('negate_x'), else_branch: fn('keep_x'), output_shapes: scalarShapes(1) },
        },
      ],
      library: { function: [cond, body, keep, negate] },
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { n: { name: 'n:0', dtype: 'DT_INT32', tensorShape: {} }, negative: { name: 'negative:0', dtype: 'DT_BOOL', tensorShape: {} } },
        outputs: { fib: { name: 'sign:0', dtype: 'DT_INT32', tensorShape: {} }, next: { name: 'loop:2', dtype: 'DT_INT32', tensorShape: {} } },
      },
    },
  };
}

/**
 * (f) tf.cond reading a variable in one branch: y = pred ? x * v : x - 1, the variable's handle passed to both branches
 * as an If argument (DT_RESOURCE), read with ReadVariableOp in the then branch.
 */
export function ifVariableMeta(): MetaGraphDef {
  const branchArgs = [arg('x', 'DT_FLOAT'), arg('mul_readvariableop_resource', 'DT_RESOURCE')];
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'v', op: 'VarHandleOp', attr: { dtype: t('DT_FLOAT'), shape: { shape: { dim: [{ size: 3 }] } }, shared_name: { s: Buffer.from('v') } } },
        { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } },
        { name: 'pred', op: 'Placeholder', attr: { dtype: t('DT_BOOL') } },
        {
          name: 'cond', op: 'If', input: ['pred', 'x', 'v'],
          attr: { Tcond: t('DT_BOOL'), Tin: types('DT_FLOAT', 'DT_RESOURCE'), Tout: types('DT_FLOAT'), then_branch: fn('cond_true_3'), else_branch: fn('cond_false_4'), output_shapes: { list: { shape: [{ dim: [{ size: 3 }] }] } } },
        },
      ],
      library: {
        function: [
          {
            signature: { name: 'cond_true_3', inputArg: branchArgs, outputArg: [arg('identity', 'DT_FLOAT')] },
            nodeDef: [
              { name: 'mul/ReadVariableOp', op: 'ReadVariableOp', input: ['mul_readvariableop_resource'], attr: { dtype: t('DT_FLOAT') } },
              { name: 'mul', op: 'Mul', input: ['x', 'mul/ReadVariableOp:value:0'], attr: { T: t('DT_FLOAT') } },
            ],
            ret: { identity: 'mul:z:0' },
          },
          {
            signature: { name: 'cond_false_4', inputArg: branchArgs, outputArg: [arg('identity', 'DT_FLOAT')] },
            nodeDef: [constNode('sub/y', f32(1)), { name: 'sub', op: 'Sub', input: ['x', 'sub/y:output:0'], attr: { T: t('DT_FLOAT') } }],
            ret: { identity: 'sub:z:0' },
          },
        ],
      },
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 3 }] } }, pred: { name: 'pred:0', dtype: 'DT_BOOL', tensorShape: {} } },
        outputs: { y: { name: 'cond:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 3 }] } } },
      },
    },
  };
}

/**
 * (g) powers = [1, x, x², x³]: a StatelessWhile that fills a TensorList the way Keras RNN layers collect their outputs
 * (TensorListReserve of constant size before the loop, TensorListSetItem in the body on the DT_VARIANT loop variable,
 * TensorListStack after it). The reserve has only constant inputs: folding it would lose the list.
 */
export function tensorListMeta(): MetaGraphDef {
  const shapeConst = (name: string, v: number[]): NodeDef =>
    constNode(name, { dtype: 'DT_INT32', tensorShape: { dim: [{ size: v.length }] }, intVal: v });
  const loopArgs = [arg('i', 'DT_INT32'), arg('acc', 'DT_FLOAT'), arg('list', 'DT_VARIANT'), arg('x', 'DT_FLOAT')];
  const listAttr = { element_dtype: t('DT_FLOAT') };
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } },
        constNode('zero', i32(0)),
        constNode('one', f32(1)),
        shapeConst('element_shape', []),
        constNode('size', i32(4)),
        { name: 'reserve', op: 'TensorListReserve', input: ['element_shape', 'size'], attr: { ...listAttr, shape_type: t('DT_INT32') } },
        {
          name: 'loop', op: 'StatelessWhile', input: ['zero', 'one', 'reserve', 'x'],
          attr: { T: types('DT_INT32', 'DT_FLOAT', 'DT_VARIANT', 'DT_FLOAT'), cond: fn('powers_cond'), body: fn('powers_body'), output_shapes: scalarShapes(4), parallel_iterations: { i: 10 } },
        },
        { name: 'powers', op: 'TensorListStack', input: ['loop:2', 'element_shape'], attr: { ...listAttr, num_elements: { i: 4 } } },
      ],
      library: {
        function: [
          {
            signature: { name: 'powers_cond', inputArg: loopArgs, outputArg: [arg('identity', 'DT_BOOL')] },
            nodeDef: [constNode('four', i32(4)), { name: 'Less', op: 'Less', input: ['i', 'four:output:0'], attr: { T: t('DT_INT32') } }],
            ret: { identity: 'Less:z:0' },
          },
          {
            signature: { name: 'powers_body', inputArg: loopArgs, outputArg: ['i1', 'acc1', 'list1', 'x1'].map((n, k) => arg(n, loopArgs[k]!.type)) },
            nodeDef: [
              { name: 'set', op: 'TensorListSetItem', input: ['list', 'i', 'acc'], attr: listAttr },
              { name: 'next_acc', op: 'Mul', input: ['acc', 'x'], attr: { T: t('DT_FLOAT') } },
              constNode('one', i32(1)),
              { name: 'next_i', op: 'AddV2', input: ['i', 'one:output:0'], attr: { T: t('DT_INT32') } },
            ],
            ret: { i1: 'next_i:z:0', acc1: 'next_acc:z:0', list1: 'set:output_handle:0', x1: 'x' },
          },
        ],
      },
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: {} } },
        outputs: { powers: { name: 'powers:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 4 }] } } },
      },
    },
  };
}

/** (h) TF1 tf.cond (Switch/Merge, constants placed in a branch by control edges): y = pred ? x * 2 : x + 100. */
export function tf1CondMeta(): MetaGraphDef {
  const n = (name: string, op: string, input: string[], attr: Record<string, AttrValue> = { T: t('DT_FLOAT') }): NodeDef => ({ name, op, input, attr });
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_FLOAT') } },
        { name: 'pred', op: 'Placeholder', attr: { dtype: t('DT_BOOL') } },
        n('cond/Switch', 'Switch', ['pred', 'pred'], { T: t('DT_BOOL') }),
        n('cond/switch_t', 'Identity', ['cond/Switch:1'], { T: t('DT_BOOL') }),
        n('cond/switch_f', 'Identity', ['cond/Switch'], { T: t('DT_BOOL') }),
        n('cond/pred_id', 'Identity', ['pred'], { T: t('DT_BOOL') }),
        n('cond/mul/Switch', 'Switch', ['x', 'cond/pred_id']),
        { ...constNode('cond/mul/y', f32(2)), input: ['^cond/switch_t'] },
        n('cond/mul', 'Mul', ['cond/mul/Switch:1', 'cond/mul/y']),
        n('cond/add/Switch', 'Switch', ['x', 'cond/pred_id']),
        { ...constNode('cond/add/y', f32(100)), input: ['^cond/switch_f'] },
        n('cond/add', 'Add', ['cond/add/Switch', 'cond/add/y']),
        n('cond/Merge', 'Merge', ['cond/add', 'cond/mul'], { T: t('DT_FLOAT'), N: { i: 2 } }),
      ],
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }] } }, pred: { name: 'pred:0', dtype: 'DT_BOOL', tensorShape: {} } },
        outputs: { y: { name: 'cond/Merge:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }] } } },
      },
    },
  };
}
