// s3://bucket/prefix URLs: the cheap checks every layer may use without loading the AWS SDK (s3-store.ts does).
import { UsageError } from '../errors.js';

export interface S3Location {
  readonly bucket: string;
  /** Key prefix without leading or trailing '/', '' for the bucket's root. */
  readonly prefix: string;
}

export function isS3Url(s: string): boolean {
  return /^s3:\/\//i.test(s);
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url);
  if (!m || !m[1]) throw new UsageError(`"${url}" is not an s3://bucket/prefix URL`);
  return { bucket: m[1], prefix: m[2]!.replace(/^\/+|\/+$/g, '') };
}

export function s3Url(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.prefix}`;
}

