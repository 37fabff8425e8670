// Object storage access for model repositories on S3 or any S3-API server (MinIO, Ceph, s3rver), configured as
// TensorFlow's S3 filesystem is, so TF Serving deployments keep their environment: S3_ENDPOINT (host[:port], or a
// URL), S3_USE_HTTPS (default 1), S3_VERIFY_SSL (default 1), AWS_REGION / S3_REGION, and the AWS SDK's standard
// credential chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, IRSA web identity, instance roles).
// Credentials never appear in errors or logs: messages name the bucket and key only.
// This module loads the AWS SDK: import it only where an s3:// path is in use (s3-url.ts has the cheap checks).
import { createWriteStream } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StorageError } from '../errors.js';
import { s3Url, type S3Location } from './s3-url.js';

export interface S3Object {
  /** Key relative to the listed prefix. */
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

function flag(env: NodeJS.ProcessEnv, name: string, dflt: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  return !['0', 'false', 'no'].includes(v.toLowerCase());
}

/**
 * The SDK client for TensorFlow's S3 environment variables, read from `env`. Credentials are the SDK's default chain,
 * which reads process.env (and profiles, web identity, instance metadata) itself.
 */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  // The SDK warns on every run under node 20 that its releases after January 2027 will need node 22: a notice about
  // upgrading the SDK, which this package pins, printed into serve's and export's output (the image runs node 20).
  // An explicit setting in the environment wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const https = flag(env, 'S3_USE_HTTPS', true);
  const verify = flag(env, 'S3_VERIFY_SSL', true);
  const raw = env.S3_ENDPOINT;
  const endpoint = raw ? (/^https?:\/\//i.test(raw) ? raw : `${https ? 'https' : 'http'}://${raw}`) : undefined;
  return new S3Client({
    region: env.AWS_REGION ?? env.S3_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // Checksums only where the API requires them: S3-compatible servers differ in their support for the newer
    // flexible-checksum headers, and every downloaded version is verified by its own CRC32C checks anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(verify ? {} : { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ rejectUnauthorized: false }) }) }),
  });
}

/** What went wrong, in the user's terms, without credentials or signed URLs. */
function describe(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e.$metadata?.httpStatusCode;
  const reason = e.code ?? e.name ?? 'error';
  // The SDK's messages name the operation and the server's reason; they carry no credentials or signatures.
  return new StorageError(`${what}: ${reason}${status ? ` (HTTP ${status})` : ''}${e.message && e.message !== reason ? `: ${e.message}` : ''}`, status);
}

export class S3Store {
  constructor(readonly client: S3Client) {}

  /** Every object under `prefix/` (paged), keys relative to it. */
  async list(loc: S3Location): Promise<S3Object[]> {
    const base = loc.prefix ? `${loc.prefix}/` : '';
    const out: S3Object[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: base, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          out.push({ key: o.Key.slice(base.length), size: Number(o.Size ?? 0), etag: (o.ETag ?? '').replace(/"/g, '') });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw describe(err, `cannot list ${s3Url(loc)}`);
    }
    return out;
  }

  /** Downloads one object to a local file; rejects if the object's size differs from `expectedSize`. */
  async download(loc: S3Location, key: string, file: string, expectedSize?: number): Promise<void> {
    const full = loc.prefix ? `${loc.prefix}/${key}` : key;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: full }));
      await pipeline(res.Body as Readable, createWriteStream(file));
      if (expectedSize !== undefined && res.ContentLength !== undefined && Number(res.ContentLength) !== expectedSize) {
        throw new StorageError(`size ${res.ContentLength} differs from the listing's ${expectedSize} (changed while downloading)`);
      }
    } catch (err) {
      throw describe(err, `cannot download s3://${loc.bucket}/${full}`);
    }
  }

  /**
   * Uploads one object. `ifAbsent` makes it a conditional put (If-None-Match: *): a store that supports it (S3, MinIO)
   * answers 412, thrown as StorageError with httpStatus 412, when the key exists; others ignore the condition.
   */
  async put(loc: S3Location, key: string, body: Buffer | Readable, length?: number, ifAbsent = false): Promise<void> {
    const full = loc.prefix ? `${loc.prefix}/${key}` : key;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: full, Body: body, ContentLength: length, ...(ifAbsent ? { IfNoneMatch: '*' } : {}) }));
    } catch (err) {
      throw describe(err, `cannot upload s3://${loc.bucket}/${full}`);
    }
  }

  async delete(loc: S3Location, key: string): Promise<void> {
    const full = loc.prefix ? `${loc.prefix}/${key}` : key;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: full }));
    } catch (err) {
      throw describe(err, `cannot delete s3://${loc.bucket}/${full}`);
    }
  }

  async readText(loc: S3Location, key: string): Promise<string> {
    const full = loc.prefix ? `${loc.prefix}/${key}` : key;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: full }));
      return await res.Body!.transformToString('utf8');
    } catch (err) {
      throw describe(err, `cannot read s3://${loc.bucket}/${full}`);
    }
  }
}
