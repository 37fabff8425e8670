// `--model_config_file s3://bucket/key`: a ModelServerConfig kept in object storage beside the models, read through
// the same S3 environment as the models (storage/s3-store.ts): at startup, and again every
// --model_config_file_poll_wait_seconds like a local file (config-poll.ts). Its base paths must be s3:// URLs or
// absolute: there is no folder on this machine for a relative one to mean.
import { isS3Url, parseS3Url } from '../storage/s3-url.js';
import type { S3Store } from '../storage/s3-store.js';
import { UsageError } from '../errors.js';
import { parseModelConfigList, type ModelConfig } from './config.js';

/** The config object's text (the AWS SDK loads only when a config in object storage is used). */
export async function readModelConfigText(url: string, store?: S3Store): Promise<string> {
  if (!isS3Url(url)) throw new UsageError(`${url} is not an s3:// URL`);
  const { bucket, prefix } = parseS3Url(url);
  if (!prefix) throw new UsageError(`${url}: name the config object (s3://bucket/path/models.config), not a bucket`);
  const { S3Store: Store, s3ClientFromEnv } = await import('../storage/s3-store.js');
  const s = store ?? new Store(s3ClientFromEnv());
  return s.readText({ bucket, prefix: '' }, prefix);
}

/** A config object's models (relative base paths refused: see the file comment). */
export function parseRemoteModelConfig(text: string, url: string): ModelConfig[] {
  return parseModelConfigList(text, url, null);
}

export async function readModelConfigUrl(url: string, store?: S3Store): Promise<ModelConfig[]> {
  return parseRemoteModelConfig(await readModelConfigText(url, store), url);
}
