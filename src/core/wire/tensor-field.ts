// HostTensor -> TensorProto the way TF Serving's gRPC Predict answers: Tensor::AsProtoField (values in the typed
// repeated field: float_val, int_val, int64_val, string_val, ...), its default PredictResponse serialization.
// Clients (tf.make_ndarray, tfjs, Go/Java stubs) read both this and tensor_content; AsProtoField is what they see
// from TF Serving. Dtypes without a typed field here fall back to hostToTensorProto (tensor_content).
import type { HostTensor } from '../engine/types.js';
import { hostToTensorProto } from '../savedmodel/tensor.js';
import type { TensorProto } from '../savedmodel/types.js';
import { floatToBfloat16, floatToHalf } from '../savedmodel/dtype.js';

/** A plain TensorProto for protobufjs' fromObject (int64 values as decimal strings so they stay exact). */
export function hostToTensorProtoField(tensor: HostTensor): Record<string, unknown> {
  // A fetched reference tensor (DT_FLOAT_REF in TF1 signatures) is a plain tensor of its base type.
  const h = tensor.dtype.endsWith('_REF') ? { ...tensor, dtype: tensor.dtype.slice(0, -4) } : tensor;
  // proto3 leaves a zero dimension size off the wire, as TF Serving's C++ does.
  const proto: Record<string, unknown> = { dtype: h.dtype, tensorShape: { dim: h.shape.map((size) => (size ? { size } : {})) } };
  const d = h.data;
  switch (h.dtype) {
    case 'DT_FLOAT':
      proto.floatVal = Array.from(d as Float32Array);
      return proto;
    case 'DT_DOUBLE':
      proto.doubleVal = Array.from(d as Float64Array);
      return proto;
    case 'DT_INT32':
    case 'DT_INT16':
    case 'DT_INT8':
    case 'DT_UINT8':
    case 'DT_UINT16':
      proto.intVal = Array.from(d as Int32Array);
      return proto;
    case 'DT_UINT32':
      proto.uint32Val = Array.from(d as Uint32Array);
      return proto;
    case 'DT_INT64':
      proto.int64Val = Array.from(d as BigInt64Array, (v) => v.toString());
      return proto;
    case 'DT_UINT64':
      proto.uint64Val = Array.from(d as BigUint64Array, (v) => v.toString());
      return proto;
    case 'DT_BOOL':
      proto.boolVal = Array.from(d as Uint8Array, (v) => v !== 0);
      return proto;
    case 'DT_STRING':
      proto.stringVal = (d as Uint8Array[]).map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength));
      return proto;
    case 'DT_HALF':
      proto.halfVal = Array.from(d as Float32Array, floatToHalf);
      return proto;
    case 'DT_BFLOAT16':
      proto.halfVal = Array.from(d as Float32Array, floatToBfloat16);
      return proto;
    default:
      return hostToTensorProto(h) as TensorProto as Record<string, unknown>;
  }
}
