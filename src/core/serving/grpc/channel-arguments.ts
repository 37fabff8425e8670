// TF Serving's --grpc_channel_arguments ("key=value,key=value", handed to the gRPC server as channel arguments), for
// the connection arguments tfsvc's gRPC servers (h2 and grpc-js) act on: grpc.max_connection_idle_ms (close a
// connection with no call in flight after that long), grpc.max_concurrent_streams (SETTINGS_MAX_CONCURRENT_STREAMS),
// grpc.keepalive_time_ms and grpc.keepalive_timeout_ms (server PINGs; an unanswered one cuts the connection). Other
// keys are returned as ignored, for the caller to warn about; a known key whose value is not a non-negative integer is
// a usage error.
import { UsageError } from '../../errors.js';

export interface GrpcChannelArguments {
  idleTimeoutMs?: number;
  maxConcurrentStreams?: number;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  /** Keys given that tfsvc does not act on. */
  ignored: string[];
}

const KNOWN: Record<string, keyof Omit<GrpcChannelArguments, 'ignored'>> = {
  'grpc.max_connection_idle_ms': 'idleTimeoutMs',
  'grpc.max_concurrent_streams': 'maxConcurrentStreams',
  'grpc.keepalive_time_ms': 'keepaliveTimeMs',
  'grpc.keepalive_timeout_ms': 'keepaliveTimeoutMs',
};

export function parseGrpcChannelArguments(text: string): GrpcChannelArguments {
  const out: GrpcChannelArguments = { ignored: [] };
  for (const part of text.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--grpc_channel_arguments: "${item}" is not key=value`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    const field = KNOWN[key];
    if (!field) {
      out.ignored.push(key);
      continue;
    }
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new UsageError(`--grpc_channel_arguments: ${key} takes a non-negative integer, not "${value}"`);
    }
    if (field === 'maxConcurrentStreams' && Number(value) === 0) throw new UsageError(`--grpc_channel_arguments: ${key} must be at least 1`);
    out[field] = Number(value);
  }
  return out;
}
