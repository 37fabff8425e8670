// Translates a TensorFlow.js Layers model (Keras topology + weights) into a frozen TensorFlow GraphDef with a
// `serving_default` signature, op for op as TF's Keras would compute it: Dense → MatMul + BiasAdd, Conv2D (NHWC, HWIO
// kernel, the layout both Keras and tfjs use) → Conv2D + BiasAdd, activations → their TF ops, Flatten/Reshape → Reshape,
// Dropout → nothing (inference), BatchNormalization → folded Mul + AddV2. Signature aliases follow Keras's SavedModel
// export: inputs are named after the input layers, outputs after the output layers.
import { ModelError } from '../errors.js';
import type { SignatureDef, TensorInfo } from '../savedmodel/types.js';
import { GraphBuilder, attr, shapeProto, tensorName, type GraphTensor } from './graph-builder.js';
import type { TfjsModel } from './tfjs-model-file.js';
import { tfDtype } from './tfjs-model-file.js';
import type { FrozenGraph, TfjsWeight } from './types.js';

type LayerConfig = Record<string, any>;
interface Layer {
  class_name: string;
  name: string;
  config: LayerConfig;
  inbound_nodes?: any[];
}

/** Layer classes this translator handles; anything else is reported by name before any work is done. */
export const SUPPORTED_LAYERS = [
  'InputLayer', 'Dense', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D',
  'Flatten', 'Reshape', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout',
  'AlphaDropout', 'Activation', 'ReLU', 'Softmax', 'BatchNormalization', 'Add', 'Concatenate',
] as const;

const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  relu6: 'Relu6',
  softmax: 'Softmax',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  elu: 'Elu',
  selu: 'Selu',
  softplus: 'Softplus',
  softsign: 'Softsign',
};

export function layersModelToGraph(model: TfjsModel): FrozenGraph {
  const topology = model.json.modelTopology;
  const root = topology.model_config ?? topology;
  const className: string = root.class_name;
  const config = root.config;
  if (!config) throw new ModelError('tfjs Layers model.json has no model config');
  const layers: Layer[] = (Array.isArray(config) ? config : config.layers ?? []).map((l: any) => ({
    class_name: l.class_name,
    name: l.config?.name ?? l.name,
    config: l.config ?? {},
    inbound_nodes: l.inbound_nodes,
  }));
  const unsupported = [...new Set(layers.map((l) => l.class_name).filter((c) => !(SUPPORTED_LAYERS as readonly string[]).includes(c)))];
  if (unsupported.length) {
    throw new ModelError(
      `cannot export this Layers model as a SavedModel: unsupported layer class${unsupported.length > 1 ? 'es' : ''} ` +
        `${unsupported.join(', ')} (supported: ${SUPPORTED_LAYERS.join(', ')})`,
    );
  }
  const t = new Translator(model.weights);
  if (className === 'Sequential') t.sequential(layers);
  else if (className === 'Model' || className === 'Functional') t.functional(layers, config);
  else throw new ModelError(`tfjs Layers model class ${className} is not supported (expected Sequential, Model or Functional)`);
  return t.result();
}

class Translator {
  readonly g = new GraphBuilder();
  private readonly inputs: Record<string, TensorInfo> = {};
  private readonly outputs: Record<string, TensorInfo> = {};

  constructor(private readonly weights: Map<string, TfjsWeight>) {}

  sequential(layers: Layer[]): void {
    if (!layers.length) throw new ModelError('Sequential model has no layers');
    const first = layers[0]!;
    const batchShape: (number | null)[] | undefined =
      first.config.batch_input_shape ?? first.config.batch_shape ?? (first.config.input_shape ? [null, ...first.config.input_shape] : undefined);
    if (!batchShape) throw new ModelError(`first layer ${first.name} of the Sequential model declares no input shape`);
    // Keras names a Sequential model's implicit input `<first layer>_input`.
    const alias = first.class_name === 'InputLayer' ? first.name : `${first.name}_input`;
    let x = this.input(alias, first.config.dtype ?? 'float32', batchShape);
    for (const layer of first.class_name === 'InputLayer' ? layers.slice(1) : layers) x = this.layer(layer, [x]);
    this.output(layers[layers.length - 1]!.name, x);
  }

  functional(layers: Layer[], config: LayerConfig): void {
    // Tensors by `layer/nodeIndex/tensorIndex`, as Keras's inbound_nodes and input/output_layers refer to them.
    const tensors = new Map<string, GraphTensor>();
    const key = (name: string, node: number, idx: number) => `${name}/${node}/${idx}`;
    for (const layer of layers) {
      if (layer.class_name === 'InputLayer') {
        const shape = layer.config.batch_input_shape ?? layer.config.batch_shape;
        tensors.set(key(layer.name, 0, 0), this.input(layer.name, layer.config.dtype ?? 'float32', shape));
        continue;
      }
      (layer.inbound_nodes ?? []).forEach((node: any, nodeIndex: number) => {
        if (!Array.isArray(node)) {
          throw new ModelError(`layer ${layer.name}: inbound node format not supported (Keras 3 topology); re-save with Keras 2 / tfjs`);
        }
        const ins = node.map((ref: any[]) => {
          const tensor = tensors.get(key(ref[0], ref[1], ref[2]));
          if (!tensor) throw new ModelError(`layer ${layer.name} consumes ${ref[0]}[${ref[1]}][${ref[2]}], which is not produced earlier`);
          return tensor;
        });
        tensors.set(key(layer.name, nodeIndex, 0), this.layer(layer, ins));
      });
    }
    const aliasOf = (refs: any[][]) => {
      const names = refs.map((r) => r[0] as string);
      return (r: any[], i: number) => (names.filter((n) => n === r[0]).length > 1 ? `${r[0]}_${i}` : (r[0] as string));
    };
    const outAlias = aliasOf(config.output_layers);
    config.output_layers.forEach((r: any[], i: number) => {
      const tensor = tensors.get(key(r[0], r[1], r[2]));
      if (!tensor) throw new ModelError(`output layer ${r[0]} is not computed by the model`);
      this.output(outAlias(r, i), tensor);
    });
  }

  private input(alias: string, dtype: string, batchShape: (number | null)[] | undefined): GraphTensor {
    if (!Array.isArray(batchShape)) throw new ModelError(`input layer ${alias} declares no batch_input_shape (or batch_shape)`);
    const shape = batchShape.map((d) => (d === null || d === undefined ? -1 : d));
    const tfType = tfDtype(dtype);
    const x = this.g.placeholder(alias, tfType, shape);
    this.inputs[alias] = { name: tensorName(x.ref), dtype: tfType, tensorShape: shapeProto(shape) };
    return x;
  }

  private output(alias: string, x: GraphTensor): void {
    // Outputs that are a Placeholder (or shared by two aliases) still get a distinct node so each alias names its own tensor.
    const y = this.g.op('Identity', `${alias}_output`, [x], { T: attr.type(x.dtype) }, x);
    this.outputs[alias] = { name: tensorName(y.ref), dtype: x.dtype, tensorShape: shapeProto(x.shape) };
  }

  private weight(layer: Layer, param: string): TfjsWeight {
    const exact = `${layer.name}/${param}`;
    const w = this.weights.get(exact) ?? [...this.weights.values()].find((v) => v.name.endsWith(`/${exact}`));
    if (!w) throw new ModelError(`layer ${layer.name} (${layer.class_name}) has no weight ${exact} in the weights manifest`);
    return w;
  }

  private constWeight(layer: Layer, param: string): GraphTensor {
    const w = this.weight(layer, param);
    return this.g.constant(`${layer.name}/${param}`, tfDtype(w.dtype), w.shape, w.data);
  }

  private activation(name: string | undefined, x: GraphTensor, scope: string): GraphTensor {
    const act = name ?? 'linear';
    if (!(act in ACTIVATIONS)) {
      throw new ModelError(`layer ${scope}: activation ${act} is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
    }
    const op = ACTIVATIONS[act];
    if (!op) return x;
    if (op === 'Softsign') return this.softsign(x, scope);
    return this.g.op(op, `${scope}/${op}`, [x], { T: attr.type(x.dtype) }, x);
  }

  /**
   * softsign(x) = x / (1 + |x|), spelled with Abs, AddV2 and RealDiv: TF has a Softsign op, but TensorFlow.js (the
   * engine of `tfsvc serve` and `validate`) has no kernel for it, so an exported model would not run in tfsvc itself.
   */
  private softsign(x: GraphTensor, scope: string): GraphTensor {
    const T = { T: attr.type(x.dtype) };
    const abs = this.g.op('Abs', `${scope}/Softsign/Abs`, [x], T, x);
    const one = this.g.constant(`${scope}/Softsign/one`, x.dtype, [], Float32Array.from([1]));
    const den = this.g.op('AddV2', `${scope}/Softsign/add`, [abs, one], T, x);
    return this.g.op('RealDiv', `${scope}/Softsign`, [x, den], T, x);
  }

  private biasAdd(layer: Layer, x: GraphTensor): GraphTensor {
    if (layer.config.use_bias === false) return x;
    const b = this.constWeight(layer, 'bias');
    return this.g.op('BiasAdd', `${layer.name}/BiasAdd`, [x, b], { T: attr.type(x.dtype), data_format: attr.str('NHWC') }, x);
  }

  private requireRank(layer: Layer, x: GraphTensor, rank: number): void {
    if (x.shape.length !== rank) {
      throw new ModelError(`layer ${layer.name} (${layer.class_name}) expects a rank-${rank} input, got shape [${x.shape.join(',')}]`);
    }
  }

  private channelsLast(layer: Layer): void {
    const f = layer.config.data_format;
    if (f && f !== 'channels_last') throw new ModelError(`layer ${layer.name}: data_format ${f} is not supported (only channels_last)`);
  }

  layer(layer: Layer, ins: GraphTensor[]): GraphTensor {
    const c = layer.config;
    const x = ins[0]!;
    const T = attr.type(x.dtype);
    switch (layer.class_name) {
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
        return x; // identity at inference time
      case 'Activation':
        return this.activation(c.activation, x, layer.name);
      case 'ReLU': {
        if (c.max_value == null && !c.negative_slope && !c.threshold) return this.activation('relu', x, layer.name);
        if (c.max_value === 6 && !c.negative_slope && !c.threshold) return this.activation('relu6', x, layer.name);
        throw new ModelError(`layer ${layer.name}: ReLU with max_value/negative_slope/threshold is not supported`);
      }
      case 'Softmax': {
        if (c.axis !== undefined && c.axis !== -1 && c.axis !== x.shape.length - 1) {
          throw new ModelError(`layer ${layer.name}: Softmax over axis ${c.axis} is not supported (only the last axis)`);
        }
        return this.activation('softmax', x, layer.name);
      }
      case 'Dense': {
        this.requireRank(layer, x, 2);
        const k = this.constWeight(layer, 'kernel');
        const units = k.shape[1]!;
        let y = this.g.op('MatMul', `${layer.name}/MatMul`, [x, k], { T, transpose_a: attr.bool(false), transpose_b: attr.bool(false) }, {
          dtype: x.dtype,
          shape: [x.shape[0]!, units],
        });
        y = this.biasAdd(layer, y);
        return this.activation(c.activation, y, layer.name);
      }
      case 'Conv2D': {
        this.requireRank(layer, x, 4);
        this.channelsLast(layer);
        const k = this.constWeight(layer, 'kernel');
        const [kh, kw, , filters] = k.shape as [number, number, number, number];
        const strides = pair(c.strides ?? 1);
        const dil = pair(c.dilation_rate ?? 1);
        const padding = paddingOf(layer);
        const [h, w] = [spatial(x.shape[1]!, kh, strides[0], dil[0], padding), spatial(x.shape[2]!, kw, strides[1], dil[1], padding)];
        let y = this.g.op(
          'Conv2D',
          `${layer.name}/Conv2D`,
          [x, k],
          {
            T,
            strides: attr.ints([1, strides[0], strides[1], 1]),
            use_cudnn_on_gpu: attr.bool(true),
            padding: attr.str(padding),
            explicit_paddings: attr.ints([]),
            data_format: attr.str('NHWC'),
            dilations: attr.ints([1, dil[0], dil[1], 1]),
          },
          { dtype: x.dtype, shape: [x.shape[0]!, h, w, filters] },
        );
        y = this.biasAdd(layer, y);
        return this.activation(c.activation, y, layer.name);
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        this.requireRank(layer, x, 4);
        this.channelsLast(layer);
        const pool = pair(c.pool_size ?? 2);
        const strides = pair(c.strides ?? c.pool_size ?? 2);
        const padding = paddingOf(layer);
        const op = layer.class_name === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool';
        const shape = [x.shape[0]!, spatial(x.shape[1]!, pool[0], strides[0], 1, padding), spatial(x.shape[2]!, pool[1], strides[1], 1, padding), x.shape[3]!];
        return this.g.op(
          op,
          `${layer.name}/${op}`,
          [x],
          { T, ksize: attr.ints([1, pool[0], pool[1], 1]), strides: attr.ints([1, strides[0], strides[1], 1]), padding: attr.str(padding), data_format: attr.str('NHWC') },
          { dtype: x.dtype, shape },
        );
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        this.requireRank(layer, x, 4);
        this.channelsLast(layer);
        const axes = this.g.constant(`${layer.name}/reduction_indices`, 'DT_INT32', [2], Int32Array.from([1, 2]));
        const op = layer.class_name === 'GlobalAveragePooling2D' ? 'Mean' : 'Max';
        const keep = c.keepdims === true;
        return this.g.op(op, `${layer.name}/${op}`, [x, axes], { T, Tidx: attr.type('DT_INT32'), keep_dims: attr.bool(keep) }, {
          dtype: x.dtype,
          shape: keep ? [x.shape[0]!, 1, 1, x.shape[3]!] : [x.shape[0]!, x.shape[3]!],
        });
      }
      case 'Flatten': {
        const inner = x.shape.slice(1);
        if (inner.some((d) => d < 0)) throw new ModelError(`layer ${layer.name}: Flatten needs known non-batch dimensions, got [${x.shape.join(',')}]`);
        const n = inner.reduce((a, b) => a * b, 1);
        return this.reshape(layer, x, [n]);
      }
      case 'Reshape': {
        const target: number[] = c.target_shape;
        return this.reshape(layer, x, target.map((d) => (d === null ? -1 : d)));
      }
      case 'BatchNormalization': {
        const axis = c.axis ?? -1;
        if (axis !== -1 && axis !== x.shape.length - 1 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === x.shape.length - 1))) {
          throw new ModelError(`layer ${layer.name}: BatchNormalization over axis ${JSON.stringify(axis)} is not supported (only the last axis)`);
        }
        const mean = this.weight(layer, 'moving_mean').data as Float32Array;
        const variance = this.weight(layer, 'moving_variance').data as Float32Array;
        const gamma = c.scale === false ? null : (this.weight(layer, 'gamma').data as Float32Array);
        const beta = c.center === false ? null : (this.weight(layer, 'beta').data as Float32Array);
        const eps = c.epsilon ?? 1e-3;
        // Inference-time batch norm is affine per channel: fold it into one multiply and one add.
        const scale = new Float32Array(mean.length);
        const offset = new Float32Array(mean.length);
        for (let i = 0; i < mean.length; i++) {
          scale[i] = (gamma ? gamma[i]! : 1) / Math.sqrt(variance[i]! + eps);
          offset[i] = (beta ? beta[i]! : 0) - mean[i]! * scale[i]!;
        }
        const s = this.g.constant(`${layer.name}/scale`, 'DT_FLOAT', [mean.length], scale);
        const o = this.g.constant(`${layer.name}/offset`, 'DT_FLOAT', [mean.length], offset);
        const m = this.g.op('Mul', `${layer.name}/mul`, [x, s], { T }, x);
        return this.g.op('AddV2', `${layer.name}/add`, [m, o], { T }, x);
      }
      case 'Add': {
        if (ins.length < 2) throw new ModelError(`layer ${layer.name}: Add needs at least two inputs`);
        if (ins.length === 2) return this.g.op('AddV2', `${layer.name}/add`, ins, { T }, x);
        return this.g.op('AddN', `${layer.name}/AddN`, ins, { T, N: attr.int(ins.length) }, x);
      }
      case 'Concatenate': {
        const rank = x.shape.length;
        const a = c.axis ?? -1;
        const axis = a < 0 ? rank + a : a;
        const axisT = this.g.constant(`${layer.name}/axis`, 'DT_INT32', [], Int32Array.from([axis]));
        const shape = [...x.shape];
        shape[axis] = ins.some((t) => t.shape[axis]! < 0) ? -1 : ins.reduce((s, t) => s + t.shape[axis]!, 0);
        return this.g.op('ConcatV2', `${layer.name}/concat`, [...ins, axisT], { T, N: attr.int(ins.length), Tidx: attr.type('DT_INT32') }, { dtype: x.dtype, shape });
      }
    }
    throw new ModelError(`layer ${layer.name}: class ${layer.class_name} is not supported`);
  }

  private reshape(layer: Layer, x: GraphTensor, inner: number[]): GraphTensor {
    const s = this.g.constant(`${layer.name}/shape`, 'DT_INT32', [inner.length + 1], Int32Array.from([-1, ...inner]));
    let shape = [x.shape[0]!, ...inner];
    const known = x.shape.slice(1).every((d) => d >= 0);
    if (inner.includes(-1) && known) {
      const total = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const rest = inner.filter((d) => d >= 0).reduce((a, b) => a * b, 1);
      shape = [x.shape[0]!, ...inner.map((d) => (d < 0 ? total / rest : d))];
    }
    return this.g.op('Reshape', `${layer.name}/Reshape`, [x, s], { T: attr.type(x.dtype), Tshape: attr.type('DT_INT32') }, { dtype: x.dtype, shape });
  }

  result(): FrozenGraph {
    const sig: SignatureDef = { inputs: this.inputs, outputs: this.outputs, methodName: 'tensorflow/serving/predict' };
    return { graphDef: this.g.graphDef(), signatures: { serving_default: sig } };
  }
}

function pair(v: number | number[]): [number, number] {
  return Array.isArray(v) ? [v[0]!, v[1] ?? v[0]!] : [v, v];
}

function paddingOf(layer: Layer): 'SAME' | 'VALID' {
  const p = String(layer.config.padding ?? 'valid').toLowerCase();
  if (p === 'same') return 'SAME';
  if (p === 'valid') return 'VALID';
  throw new ModelError(`layer ${layer.name}: padding ${p} is not supported (same or valid)`);
}

/** Output size of a window op along one spatial dimension, as TF computes it; -1 stays unknown. */
function spatial(size: number, k: number, stride: number, dilation: number, padding: 'SAME' | 'VALID'): number {
  if (size < 0) return -1;
  const eff = (k - 1) * dilation + 1;
  return padding === 'SAME' ? Math.ceil(size / stride) : Math.floor((size - eff) / stride) + 1;
}

