// `tfsvc export SRC --repo s3://bucket/prefix --name NAME [--version N | --next] [--warmup N]`: publish a model
// version into a model repository in object storage (s3://bucket/prefix/NAME/N), so that a server polling it never
// takes half a version. Object stores have no atomic rename; the contract with the reader (storage/s3-versions.ts):
//   1. the version is built and validated locally first, in a private temp dir (prepareVersion: the same copy,
//      conversion, validation and warmup as a local publish), so nothing is uploaded for a model validate refuses;
//   2. N/.tfsvc-incomplete is written first: a conditional put (If-None-Match: *) where the store supports it, then
//      read back, so two exporters cannot claim one version (with --next the loser moves on to N+1);
//   3. every file of the version is uploaded;
//   4. N/.tfsvc-complete is written: a manifest of every key and size; readers take N once the listing matches it;
//   5. N/.tfsvc-incomplete is deleted.
// An existing version (any object under N/, markers included) is never replaced. Ctrl-C, SIGTERM, SIGHUP or a failed
// upload leave N/.tfsvc-incomplete without a manifest: an incomplete version no server takes, and a message saying so
// and how to remove it. --next counts such leftovers as used numbers, so a dead upload's number is never reused.
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { StorageError, UsageError } from '../errors.js';
import type { S3Store } from '../storage/s3-store.js';
import { parseS3Url, s3Url, type S3Location } from '../storage/s3-url.js';
import { COMPLETE_MARKER, groupVersions, INCOMPLETE_MARKER, type CompletionManifest } from '../storage/s3-versions.js';
import { checkPublishOptions, namingSource, prepareVersion, removeOnSignal, type PublishOptions, type PublishResult } from './publish.js';

export interface S3PublishOptions extends PublishOptions {
  /** The store (default: from TensorFlow's S3 environment variables). */
  store?: S3Store;
  /** Called after the incomplete marker and before the manifest (tests use it to race readers). */
  beforeComplete?: (url: string) => Promise<void> | void;
}

export interface S3PublishResult extends PublishResult {
  /** s3://bucket/prefix/NAME/N */
  url: string;
  /** Objects uploaded, markers excluded. */
  files: number;
  bytes: number;
}

/** Uploads at a time: enough to hide per-request latency, few enough for a small store. */
const CONCURRENCY = 4;
const BUFFERED_MAX = 64 * 1024 * 1024;

export async function publishModelToS3(src: string, opts: S3PublishOptions): Promise<S3PublishResult> {
  checkPublishOptions(opts);
  const repo = parseS3Url(opts.repo);
  const base: S3Location = { bucket: repo.bucket, prefix: repo.prefix ? `${repo.prefix}/${opts.name}` : opts.name };
  let store = opts.store;
  if (!store) {
    const { S3Store: Store, s3ClientFromEnv } = await import('../storage/s3-store.js');
    store = new Store(s3ClientFromEnv());
  }
  // Listed before the (possibly long) validation: an unreachable store or a taken --version fails at once.
  const taken = await usedVersions(store, base);
  if (opts.version !== undefined && taken.has(opts.version)) {
    throw new UsageError(`${s3Url(base)}/${opts.version} already exists: refusing to overwrite a published version (use --next or another --version)`);
  }

  const temp = await mkdtemp(path.join(os.tmpdir(), 'tfsvc-export-'));
  // What a signal leaves behind depends on how far the upload got: set once the version is claimed.
  let claimed: string | undefined;
  const guard = removeOnSignal(temp, () => {
    if (claimed) process.stderr.write(`tfsvc export: interrupted: ${leftoverMessage(claimed)}\n`);
  });
  try {
    const prepared = await prepareVersion(src, temp, opts);
    const files = await listFiles(temp);
    let version = opts.version ?? nextOf(taken);
    for (let attempt = 0; ; attempt++) {
      if (await claim(store, base, version)) break;
      if (opts.version !== undefined || attempt >= 20) {
        throw new UsageError(`${s3Url(base)}/${version} already exists: refusing to overwrite a published version`);
      }
      version = Math.max(nextOf(await usedVersions(store, base)), version + 1);
    }
    const url = `${s3Url(base)}/${version}`;
    claimed = url;
    try {
      await eachLimited(files, CONCURRENCY, async (f) => {
        const file = path.join(temp, ...f.key.split('/'));
        // The SDK retries a failed PUT only when it can resend the body: a Buffer, not a stream. Files up to
        // BUFFERED_MAX are read whole (at most CONCURRENCY of them in memory); larger ones stream, unretried.
        await store.put(base, `${version}/${f.key}`, f.size <= BUFFERED_MAX ? await readFile(file) : createReadStream(file), f.size);
      });
      await opts.beforeComplete?.(url);
      const manifest: CompletionManifest = { format: 'tfsvc-upload/1', files: files.map((f) => ({ key: f.key, size: f.size })) };
      await store.put(base, `${version}/${COMPLETE_MARKER}`, Buffer.from(JSON.stringify(manifest)));
    } catch (err) {
      throw new StorageError(`${(err as Error).message}; ${leftoverMessage(url)}`, (err as StorageError).httpStatus, { cause: err });
    }
    // The version is complete (readers take it by its manifest); a leftover incomplete marker beside the manifest
    // changes nothing, so failing to delete it is only worth a retry on the next export, not an error.
    await store.delete(base, `${version}/${INCOMPLETE_MARKER}`).catch(() => undefined);
    const bytes = files.reduce((n, f) => n + f.size, 0);
    return { dir: url, url, version, source: src, ...prepared, files: files.length, bytes };
  } catch (err) {
    throw namingSource(err, temp, src);
  } finally {
    guard.disarm();
    await rm(temp, { recursive: true, force: true });
  }
}

function leftoverMessage(url: string): string {
  return `${url} is left incomplete (${INCOMPLETE_MARKER}, no ${COMPLETE_MARKER}), so no server takes it; delete everything under ${url}/ to tidy up, and publish again (--next skips the number)`;
}

/** Version numbers with any object under them (complete, incomplete or another tool's). */
async function usedVersions(store: S3Store, base: S3Location): Promise<Set<number>> {
  const all = groupVersions(await store.list(base));
  return new Set(all.map((v) => v.version));
}

function nextOf(used: Set<number>): number {
  return used.size ? Math.max(...used) + 1 : 1;
}

/**
 * Writes `version/.tfsvc-incomplete` holding a random token, if nothing is under `version/` yet; true when this
 * export holds the version. The conditional put settles races on stores that support it; on others, reading the
 * marker back and listing the version catch all but a near-simultaneous claim.
 */
async function claim(store: S3Store, base: S3Location, version: number): Promise<boolean> {
  if ((await usedVersions(store, base)).has(version)) return false;
  const token = randomBytes(12).toString('hex');
  const body = Buffer.from(JSON.stringify({ token, host: os.hostname(), pid: process.pid, started: new Date().toISOString() }));
  try {
    await store.put(base, `${version}/${INCOMPLETE_MARKER}`, body, body.length, true);
  } catch (err) {
    if (err instanceof StorageError && (err.httpStatus === 412 || err.httpStatus === 409)) return false;
    throw err;
  }
  const mine = (await store.readText(base, `${version}/${INCOMPLETE_MARKER}`).catch(() => '')).includes(token);
  const others = (await store.list({ bucket: base.bucket, prefix: `${base.prefix}/${version}` })).some((o) => o.key !== INCOMPLETE_MARKER);
  return mine && !others;
}

/** Every file under `dir`, keys '/'-separated and sorted. */
async function listFiles(dir: string, rel = ''): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const key = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, key)));
    else out.push({ key, size: (await stat(path.join(dir, key))).size });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Runs `fn` over `items`, at most `limit` at a time; rejects with the first failure once the running ones end. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}
