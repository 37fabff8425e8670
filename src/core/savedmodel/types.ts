// Plain-object shapes of TensorFlow's protobuf messages as `decodePlain` (src/core/proto/schema.ts) returns them:
// camelCase field names, int64/uint64/fixed32 as numbers, enums as their names ('DT_FLOAT'), bytes as Buffer.
// Defaults are NOT filled in: a field at its proto3 default (0, '', false, empty list or map) is simply absent, so every
// field is optional and readers must supply the default themselves (`x.size ?? 0`). Oneof members appear only when set.
// Field sets follow proto/tensorflow.proto; a field missing here is one tfsvc does not decode.

/** Bytes fields: protobufjs hands out Buffers on Node (views into the decoded file). */
export type Bytes = Uint8Array;

/** TensorFlow dtype name: 'DT_FLOAT', 'DT_INT64', 'DT_FLOAT_REF', ... (numbers only for values unknown to the schema). */
export type DataTypeName = string;

// --- tensor_shape.proto / tensor.proto ----------------------------------------------------------------------------

export interface TensorShapeDim {
  /** -1 for an unknown dimension. Absent means 0. */
  size?: number;
  name?: string;
}

export interface TensorShapeProto {
  dim?: TensorShapeDim[];
  /** True when even the rank is unknown; `dim` is then empty. */
  unknownRank?: boolean;
}

export interface ResourceHandleProto {
  device?: string;
  container?: string;
  name?: string;
  hashCode?: number;
  maybeTypeName?: string;
  dtypesAndShapes?: { dtype?: DataTypeName; shape?: TensorShapeProto }[];
}

export interface VariantTensorDataProto {
  typeName?: string;
  metadata?: Bytes;
  tensors?: TensorProto[];
}

export interface TensorProto {
  dtype?: DataTypeName;
  tensorShape?: TensorShapeProto;
  versionNumber?: number;
  /** Raw little-endian element bytes; when present it wins over the typed *Val fields. */
  tensorContent?: Bytes;
  /** DT_HALF and DT_BFLOAT16 values as their 16-bit patterns in int32s. */
  halfVal?: number[];
  floatVal?: number[];
  doubleVal?: number[];
  /** DT_INT32, DT_INT16, DT_INT8, DT_UINT8, DT_UINT16 values. */
  intVal?: number[];
  stringVal?: Bytes[];
  /** DT_COMPLEX64 as interleaved (real, imaginary) pairs. */
  scomplexVal?: number[];
  /** Numbers when exact, decimal strings beyond 2^53 (see exactTensorInt64Values in src/core/proto/schema.ts). */
  int64Val?: (number | string)[];
  boolVal?: boolean[];
  /** DT_COMPLEX128 as interleaved (real, imaginary) pairs. */
  dcomplexVal?: number[];
  resourceHandleVal?: ResourceHandleProto[];
  variantVal?: VariantTensorDataProto[];
  uint32Val?: number[];
  /** Like int64Val: numbers when exact, decimal strings beyond 2^53. */
  uint64Val?: (number | string)[];
  float8Val?: Bytes;
}

// --- attr_value.proto / node_def.proto / op_def.proto / function.proto / graph.proto ----------------------------

export interface NameAttrList {
  name?: string;
  attr?: Record<string, AttrValue>;
}

export interface ListValue {
  s?: Bytes[];
  i?: number[];
  f?: number[];
  b?: boolean[];
  type?: DataTypeName[];
  shape?: TensorShapeProto[];
  tensor?: TensorProto[];
  func?: NameAttrList[];
}

/** A oneof: at most one member is present (an absent attr value of kind i/f/b at its default decodes to `{}`). */
export interface AttrValue {
  s?: Bytes;
  i?: number;
  f?: number;
  b?: boolean;
  type?: DataTypeName;
  shape?: TensorShapeProto;
  tensor?: TensorProto;
  list?: ListValue;
  func?: NameAttrList;
  placeholder?: string;
}

export interface NodeDef {
  name?: string;
  op?: string;
  /** `node`, `node:1`, or `^node` for a control input. */
  input?: string[];
  device?: string;
  attr?: Record<string, AttrValue>;
}

export interface VersionDef {
  producer?: number;
  minConsumer?: number;
  badConsumers?: number[];
}

export interface ArgDef {
  name?: string;
  description?: string;
  type?: DataTypeName;
  typeAttr?: string;
  numberAttr?: string;
  typeListAttr?: string;
  isRef?: boolean;
}

export interface AttrDef {
  name?: string;
  type?: string;
  defaultValue?: AttrValue;
  description?: string;
  hasMinimum?: boolean;
  minimum?: number;
  allowedValues?: AttrValue;
}

export interface OpDef {
  name?: string;
  inputArg?: ArgDef[];
  outputArg?: ArgDef[];
  controlOutput?: string[];
  attr?: AttrDef[];
  summary?: string;
  description?: string;
  isCommutative?: boolean;
  isAggregate?: boolean;
  isStateful?: boolean;
  allowsUninitializedInput?: boolean;
}

export interface OpList {
  op?: OpDef[];
}

export interface FunctionDef {
  signature?: OpDef;
  attr?: Record<string, AttrValue>;
  /** Keyed by argument index (as a string, since it is a JS object key). */
  argAttr?: Record<string, { attr?: Record<string, AttrValue> }>;
  resourceArgUniqueId?: Record<string, number>;
  nodeDef?: NodeDef[];
  /** Output arg name → `node:output_arg:index` inside the function body. */
  ret?: Record<string, string>;
  controlRet?: Record<string, string>;
}

export interface GradientDef {
  functionName?: string;
  gradientFunc?: string;
}

export interface FunctionDefLibrary {
  function?: FunctionDef[];
  gradient?: GradientDef[];
}

export interface GraphDef {
  node?: NodeDef[];
  versions?: VersionDef;
  version?: number;
  library?: FunctionDefLibrary;
}

// --- meta_graph.proto / saved_model.proto ---------------------------------------------------------------------------

export interface Any {
  typeUrl?: string;
  value?: Bytes;
}

export interface CollectionDef {
  nodeList?: { value?: string[] };
  bytesList?: { value?: Bytes[] };
  int64List?: { value?: number[] };
  floatList?: { value?: number[] };
  anyList?: { value?: Any[] };
}

export interface SaverDef {
  filenameTensorName?: string;
  saveTensorName?: string;
  restoreOpName?: string;
  maxToKeep?: number;
  sharded?: boolean;
  keepCheckpointEveryNHours?: number;
  version?: number;
}

/** One signature input/output. Exactly one of name / cooSparse / compositeTensor is set. */
export interface TensorInfo {
  name?: string;
  cooSparse?: { valuesTensorName?: string; indicesTensorName?: string; denseShapeTensorName?: string };
  compositeTensor?: { components?: TensorInfo[] };
  dtype?: DataTypeName;
  tensorShape?: TensorShapeProto;
}

export interface SignatureDef {
  inputs?: Record<string, TensorInfo>;
  outputs?: Record<string, TensorInfo>;
  methodName?: string;
  defaults?: Record<string, TensorProto>;
}

export interface AssetFileDef {
  tensorInfo?: TensorInfo;
  filename?: string;
}

export interface MetaInfoDef {
  metaGraphVersion?: string;
  strippedOpList?: OpList;
  anyInfo?: Any;
  tags?: string[];
  tensorflowVersion?: string;
  tensorflowGitVersion?: string;
  strippedDefaultAttrs?: boolean;
  functionAliases?: Record<string, string>;
}

export interface MetaGraphDef {
  metaInfoDef?: MetaInfoDef;
  graphDef?: GraphDef;
  saverDef?: SaverDef;
  collectionDef?: Record<string, CollectionDef>;
  signatureDef?: Record<string, SignatureDef>;
  assetFileDef?: AssetFileDef[];
  objectGraphDef?: SavedObjectGraph;
}

export interface SavedModel {
  savedModelSchemaVersion?: number;
  metaGraphs?: MetaGraphDef[];
}

// --- trackable_object_graph.proto (checkpoints) -------------------------------------------------------------------

export interface ObjectReference {
  nodeId?: number;
  localName?: string;
}

export interface SerializedTensor {
  /** Attribute name, e.g. 'VARIABLE_VALUE'. */
  name?: string;
  fullName?: string;
  /** Key of the tensor in the checkpoint, e.g. 'layer/kernel/.ATTRIBUTES/VARIABLE_VALUE'. */
  checkpointKey?: string;
}

export interface SlotVariableReference {
  originalVariableNodeId?: number;
  slotName?: string;
  slotVariableNodeId?: number;
}

export interface TrackableObject {
  children?: ObjectReference[];
  attributes?: SerializedTensor[];
  slotVariables?: SlotVariableReference[];
}

export interface TrackableObjectGraph {
  nodes?: TrackableObject[];
}

// --- saved_object_graph.proto (TF2 SavedModels) ---------------------------------------------------------------------

export interface FunctionSpec {
  isMethod?: boolean;
}

export interface SavedUserObject {
  identifier?: string;
  version?: VersionDef;
  metadata?: string;
}

export interface SavedAsset {
  assetFileDefIndex?: number;
}

export interface SavedFunction {
  concreteFunctions?: string[];
  functionSpec?: FunctionSpec;
}

export interface CapturedTensor {
  name?: string;
  concreteFunction?: string;
}

export interface SavedBareConcreteFunction {
  concreteFunctionName?: string;
  argumentKeywords?: string[];
  allowedPositionalArguments?: number;
  functionSpec?: FunctionSpec;
}

export interface SavedConstant {
  operation?: string;
}

export interface SavedVariable {
  dtype?: DataTypeName;
  shape?: TensorShapeProto;
  trainable?: boolean;
  synchronization?: number;
  aggregation?: number;
  name?: string;
  device?: string;
  experimentalDistributedVariableComponents?: SavedVariable[];
}

export interface SavedResource {
  device?: string;
}

export interface SaveableObject {
  saveFunction?: number;
  restoreFunction?: number;
}

/** The oneof `kind` members of SavedObject; at most one is present. */
export type SavedObjectKind =
  | 'userObject'
  | 'asset'
  | 'function'
  | 'variable'
  | 'bareConcreteFunction'
  | 'constant'
  | 'resource'
  | 'capturedTensor';

export const SAVED_OBJECT_KINDS: readonly SavedObjectKind[] = [
  'userObject',
  'asset',
  'function',
  'variable',
  'bareConcreteFunction',
  'constant',
  'resource',
  'capturedTensor',
];

export interface SavedObject {
  children?: ObjectReference[];
  dependencies?: ObjectReference[];
  slotVariables?: SlotVariableReference[];
  userObject?: SavedUserObject;
  asset?: SavedAsset;
  function?: SavedFunction;
  variable?: SavedVariable;
  bareConcreteFunction?: SavedBareConcreteFunction;
  constant?: SavedConstant;
  resource?: SavedResource;
  capturedTensor?: CapturedTensor;
  saveableObjects?: Record<string, SaveableObject>;
  registeredName?: string;
  registeredSaver?: string;
}

/** Which oneof member of a SavedObject is set, or undefined for none. */
export function savedObjectKind(o: SavedObject): SavedObjectKind | undefined {
  return SAVED_OBJECT_KINDS.find((k) => o[k] !== undefined);
}

export interface SavedConcreteFunction {
  /** Node ids in the object graph of the captured inputs (variables, resources) bound to the function's trailing args. */
  boundInputs?: number[];
}

export interface SavedObjectGraph {
  nodes?: SavedObject[];
  concreteFunctions?: Record<string, SavedConcreteFunction>;
}

// --- tensor_bundle.proto (variables.index) --------------------------------------------------------------------------

export interface TensorSliceProto {
  extent?: { start?: number; length?: number }[];
}

export interface BundleHeaderProto {
  numShards?: number;
  /** 'LITTLE' (default, absent) or 'BIG'. */
  endianness?: 'LITTLE' | 'BIG' | string;
  version?: VersionDef;
}

export interface BundleEntryProto {
  dtype?: DataTypeName;
  shape?: TensorShapeProto;
  shardId?: number;
  offset?: number;
  size?: number;
  /** Masked CRC32C of the entry's bytes in the shard (unsigned 32-bit). */
  crc32c?: number;
  /** Present for partitioned variables, whose entry itself holds no data. */
  slices?: TensorSliceProto[];
}
