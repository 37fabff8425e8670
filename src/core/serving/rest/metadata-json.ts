// The JSON of GET /v1/models/M[/versions/V]/metadata and GET /v1/models/M[...] (status), as TF Serving writes them:
// protobuf's JSON printer (add_whitespace, always_print_fields_with_no_presence, preserve_proto_field_names) over
// GetModelMetadataResponse / GetModelStatusResponse (model_servers/http_rest_api_util.cc ToJsonString).
//
// The printer's layout: one space of indent per level, `"key": value`, empty maps `{}` and lists `[]`, int64 as
// strings ("-1", "123"), enums by name, every field without presence printed at its default (so `"name": ""`,
// `"unknown_rank": false`, `"defaults": {}`), message and oneof fields only when set, plain fields in field-number
// order before oneof members (so TensorInfo prints dtype, tensor_shape, then name; ModelSpec name, signature_name,
// then version). The metadata response is not one message: TF Serving prints model_spec and the SignatureDefMap
// separately and glues them as "{\n\"model_spec\":" + spec + ",\n\"metadata\": {\"signature_def\": " + map + "}\n}\n".
// ../shared/models/tfserving/half_plus_two_model_metadata.json holds the same document re-indented.
import protobuf from 'protobufjs';
import { protoRoot } from '../../proto/schema.js';
import type { VersionStatus } from '../types.js';

const SERVING_PROTO = 'tensorflow_serving.proto';

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const WRAPPERS = new Set([
  '.google.protobuf.Int64Value',
  '.google.protobuf.UInt64Value',
  '.google.protobuf.Int32Value',
  '.google.protobuf.UInt32Value',
  '.google.protobuf.StringValue',
  '.google.protobuf.BoolValue',
  '.google.protobuf.FloatValue',
  '.google.protobuf.DoubleValue',
  '.google.protobuf.BytesValue',
]);

/** proto field name as written in the .proto (protobufjs keeps the camelCase form). */
const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function scalarJson(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Enum) {
    if (v === undefined || v === null) return rt.valuesById[0] ?? 0;
    return typeof v === 'number' ? (rt.valuesById[v] ?? v) : v;
  }
  if (LONG_TYPES.has(field.type)) return String(v ?? 0);
  switch (field.type) {
    case 'bool':
      return Boolean(v ?? false);
    case 'string':
      return v ?? '';
    case 'bytes':
      return v ? Buffer.from(v as Uint8Array).toString('base64') : '';
    case 'float':
    case 'double': {
      const n = Number(v ?? 0);
      if (Number.isNaN(n)) return 'NaN';
      if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
      return field.type === 'float' ? Number(Math.fround(n).toPrecision(9)) : n;
    }
    default:
      return Number(v ?? 0);
  }
}

function valueJson(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    if (WRAPPERS.has(rt.fullName)) return scalarJson(rt.fields.value, (v as { value?: unknown } | null)?.value);
    return messageJson(rt, (v ?? {}) as Record<string, unknown>);
  }
  return scalarJson(field, v);
}

/** A decoded plain message (camelCase, defaults absent, like decodePlain gives) as protobuf's JSON printer orders it. */
export function messageJson(type: protobuf.Type, v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
  const plain = fields.filter((f) => !f.partOf);
  const oneofMembers = fields.filter((f) => f.partOf);
  for (const f of plain) {
    const val = v[f.name];
    const name = snake(f.name);
    if (f.map) {
      const entries = Object.entries((val ?? {}) as Record<string, unknown>);
      const obj: Record<string, unknown> = {};
      for (const [k, e] of entries) obj[k] = valueJson(f, e);
      out[name] = obj;
    } else if (f.repeated) {
      out[name] = ((val ?? []) as unknown[]).map((e) => valueJson(f, e));
    } else if (f.resolvedType instanceof protobuf.Type) {
      if (val !== undefined && val !== null) out[name] = valueJson(f, val);
    } else {
      out[name] = scalarJson(f, val);
    }
  }
  for (const f of oneofMembers) {
    const val = v[f.name];
    if (val !== undefined && val !== null) out[snake(f.name)] = valueJson(f, val);
  }
  return out;
}

/** protobuf's MessageToJsonString with add_whitespace: one-space indent and a final newline. */
function printJson(value: unknown): string {
  return `${JSON.stringify(value, null, 1)}\n`;
}

export interface MetadataModelSpec {
  name: string;
  version?: number;
  versionLabel?: string;
  signatureName?: string;
}

/**
 * The body of GET .../metadata for a model version whose meta graph has `signatureDefs` (decoded plain SignatureDefs
 * keyed by signature name, in the order to print them). Byte for byte TF Serving's text.
 */
export function encodeMetadataResponse(modelSpec: MetadataModelSpec, signatureDefs: Record<string, unknown>): string {
  const root = protoRoot(SERVING_PROTO);
  const spec: Record<string, unknown> = { name: modelSpec.name, signatureName: modelSpec.signatureName ?? '' };
  if (modelSpec.version !== undefined) spec.version = { value: modelSpec.version };
  else if (modelSpec.versionLabel !== undefined) spec.versionLabel = modelSpec.versionLabel;
  const specJson = printJson(messageJson(root.lookupType('tensorflow.serving.ModelSpec'), spec));
  const mapJson = printJson(messageJson(root.lookupType('tensorflow.serving.SignatureDefMap'), { signatureDef: signatureDefs }));
  return `{\n"model_spec":${specJson},\n"metadata": {"signature_def": ${mapJson}}\n}\n`;
}

/** TF Serving's numeric ModelVersionStatus.State values. */
const STATE_NUMBERS: Record<string, number> = { UNKNOWN: 0, START: 10, LOADING: 20, AVAILABLE: 30, UNLOADING: 40, END: 50 };

/** The body of GET /v1/models/M[/versions/V|/labels/L]: GetModelStatusResponse as TF Serving prints it. */
export function encodeStatusResponse(statuses: VersionStatus[]): string {
  const type = protoRoot(SERVING_PROTO).lookupType('tensorflow.serving.GetModelStatusResponse');
  const msg = {
    modelVersionStatus: statuses.map((s) => ({
      version: s.version,
      state: s.state in STATE_NUMBERS ? s.state : 'UNKNOWN',
      status: { errorCode: s.errorCode || 'OK', errorMessage: s.errorMessage ?? '' },
    })),
  };
  return printJson(messageJson(type, msg));
}

/**
 * GetModelStatusResponse as a plain object for protobufjs (gRPC), from the lookup's statuses. Fields at their proto3
 * default (error_code OK, empty message) are left out so the wire bytes match TF Serving's.
 */
export function statusResponseMessage(statuses: VersionStatus[]): Record<string, unknown> {
  return {
    modelVersionStatus: statuses.map((s) => {
      const status: Record<string, unknown> = {};
      if (s.errorCode && s.errorCode !== 'OK') status.errorCode = s.errorCode;
      if (s.errorMessage) status.errorMessage = s.errorMessage;
      return { version: s.version, state: STATE_NUMBERS[s.state] ?? 0, status };
    }),
  };
}
