// `--model_config_file s3://bucket/key`: a ModelServerConfig kept in object storage beside the models, read once at
// startup through the same S3 environment as the models (storage/s3-store.ts). Its base paths must be s3:// URLs or
// absolute: there is no folder on this machine for a relative one to mean. Re-reading it while serving is not
// implemented (local config files are polled by server.ts).
import { isS3Url, parseS3Url } from '../storage/s3-url.js';
import type { S3Store } from '../storage/s3-store.js';
import { UsageError } from '../errors.js';
import { parseModelConfigList, type ModelConfig } from './config.js';

export async function readModelConfigUrl(url: string, store?: S3Store): Promise<ModelConfig[]> {
  if (!isS3Url(url)) throw new UsageError(`${url} is not an s3:// URL`);
  const { bucket, prefix } = parseS3Url(url);
  if (!prefix) throw new UsageError(`${url}: name the config object (s3://bucket/path/models.config), not a bucket`);
  // The AWS SDK loads only when a config in object storage is used.
  const { S3Store: Store, s3ClientFromEnv } = await import('../storage/s3-store.js');
  const s = store ?? new Store(s3ClientFromEnv());
  const text = await s.readText({ bucket, prefix: '' }, prefix);
  return parseModelConfigList(text, url, null);
}
