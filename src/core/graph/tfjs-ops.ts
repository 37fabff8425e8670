// The TensorFlow ops tfjs-converter 4.22's graph executor implements (its op_list/*.ts mappings), plus the ops tfsvc
// registers itself (src/core/engine/custom-ops.ts). test/graph/tfjs-ops.test.ts checks this list against the installed
// @tensorflow/tfjs-converter, so an upgrade that adds or drops ops shows up as a failing test rather than a runtime
// surprise.
export const TFJS_OPS: ReadonlySet<string> = new Set([
  'Abs', 'Acos', 'Acosh', 'Add', 'AddN', 'AddV2', 'All', 'Any', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atan2',
  'Atanh', 'AvgPool', 'AvgPool3D', 'BatchMatMul', 'BatchMatMulV2', 'BatchToSpaceND', 'BiasAdd', 'Bincount',
  'BitwiseAnd', 'BroadcastArgs', 'BroadcastTo', 'Cast', 'Ceil', 'ClipByValue', 'Complex', 'ComplexAbs', 'Concat',
  'ConcatV2', 'Const', 'Conv1D', 'Conv2D', 'Conv2DBackpropInput', 'Conv3D', 'Cos', 'Cosh', 'CropAndResize', 'Cumprod',
  'Cumsum', 'DenseBincount', 'DepthToSpace', 'DepthwiseConv2d', 'DepthwiseConv2dNative', 'Dilation2D', 'Div',
  'DivNoNan', 'Einsum', 'Elu', 'EmptyTensorList', 'EnsureShape', 'Enter', 'Equal', 'Erf', 'EuclideanNorm', 'Exit',
  'Exp', 'ExpandDims', 'Expm1', 'FFT', 'FakeQuantWithMinMaxVars', 'Fill', 'Floor', 'FloorDiv', 'FloorMod',
  'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', 'FusedDepthwiseConv2dNative', 'Gather', 'GatherNd',
  'GatherV2', 'Greater', 'GreaterEqual', 'HashTable', 'HashTableV2', 'IFFT', 'IRFFT', 'Identity', 'IdentityN', 'If',
  'Imag', 'ImageProjectiveTransformV3', 'InitializeTable', 'InitializeTableV2', 'IsFinite', 'IsInf', 'IsNan', 'LRN',
  'LeakyRelu', 'Less', 'LessEqual', 'LinSpace', 'ListDiff', 'Log', 'Log1p', 'LogSoftmax', 'LogicalAnd', 'LogicalNot',
  'LogicalOr', 'LookupTableFind', 'LookupTableFindV2', 'LookupTableImport', 'LookupTableImportV2', 'LookupTableSize',
  'LookupTableSizeV2', 'LoopCond', 'LowerBound', 'MatMul', 'MatrixBandPart', 'Max', 'MaxPool', 'MaxPool3D',
  'MaxPoolWithArgmax', 'Maximum', 'Mean', 'Merge', 'Min', 'Minimum', 'MirrorPad', 'Mod', 'Mul', 'Multinomial', 'Neg',
  'NextIteration', 'NoOp', 'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5',
  'NotEqual', 'OneHot', 'Ones', 'OnesLike', 'Pack', 'Pad', 'PadV2', 'Placeholder', 'PlaceholderWithDefault', 'Pow',
  'Prelu', 'Print', 'Prod', 'RFFT', 'RaggedGather', 'RaggedRange', 'RaggedTensorToTensor', 'RandomStandardNormal',
  'RandomUniform', 'RandomUniformInt', 'Range', 'Rank', 'Real', 'RealDiv', 'Reciprocal', 'Relu', 'Relu6', 'Reshape',
  'ResizeBilinear', 'ResizeNearestNeighbor', 'Reverse', 'ReverseV2', 'Round', 'Rsqrt', 'ScatterNd', 'Select',
  'SelectV2', 'Selu', 'Shape', 'ShapeN', 'Sigmoid', 'Sign', 'SimpleMLCreateModelResource',
  'SimpleMLInferenceOpWithHandle', 'SimpleMLLoadModelFromPathWithHandle', 'Sin', 'Sinh', 'Size', 'Slice', 'Snapshot',
  'Softmax', 'Softplus', 'SpaceToBatchND', 'SparseFillEmptyRows', 'SparseReshape', 'SparseSegmentMean',
  'SparseSegmentSum', 'SparseToDense', 'Split', 'SplitV', 'Sqrt', 'Square', 'SquaredDifference', 'Squeeze',
  'StatelessIf', 'StatelessWhile', 'StaticRegexReplace', 'StopGradient', 'StridedSlice', 'StringNGrams',
  'StringSplit', 'StringToHashBucketFast', 'Sub', 'Sum', 'Switch', 'Tan', 'Tanh', 'TensorArrayCloseV3',
  'TensorArrayConcatV3', 'TensorArrayGatherV3', 'TensorArrayReadV3', 'TensorArrayScatterV3', 'TensorArraySizeV3',
  'TensorArraySplitV3', 'TensorArrayV3', 'TensorArrayWriteV3', 'TensorListConcat', 'TensorListConcatV2',
  'TensorListFromTensor', 'TensorListGather', 'TensorListGetItem', 'TensorListLength', 'TensorListPopBack',
  'TensorListPushBack', 'TensorListReserve', 'TensorListResize', 'TensorListScatter', 'TensorListScatterV2',
  'TensorListSetItem', 'TensorListSplit', 'TensorListStack', 'TensorScatterUpdate', 'Tile', 'TopKV2', 'Transpose',
  'TruncatedNormal', 'Unique', 'UniqueV2', 'Unpack', 'UpperBound', 'Where', 'While', 'Zeros', 'ZerosLike',
  '_FusedConv2D', '_FusedMatMul',
]);

/**
 * Ops tfsvc implements as tfjs custom ops (see src/core/engine/custom-ops.ts). Some replace tfjs's own mapping
 * (StaticRegexReplace, RaggedTensorToTensor: no wasm kernel, and RE2 rewrite rules); TfsvcTableFind is what the graph
 * builder turns table lookups into (src/core/graph/tables.ts), TfsvcRecurrentLoop what it turns Keras RNN loops into
 * (src/core/graph/recurrent-loop.ts).
 */
export const TFSVC_OPS: ReadonlySet<string> = new Set([
  'ParseExample', 'ParseExampleV2', 'TfsvcTableFind', 'StringLower', 'StringUpper', 'StaticRegexReplace', 'StringSplitV2',
  'RaggedTensorToTensor', 'Equal', 'NotEqual', 'TfsvcRecurrentLoop',
]);

/** Whether tfjs can execute `op` once tfsvc's custom ops are registered. */
export function tfjsSupports(op: string): boolean {
  return TFJS_OPS.has(op) || TFSVC_OPS.has(op);
}
