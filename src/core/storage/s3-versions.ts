// Model versions kept in object storage, mirrored into a local cache directory so the SavedModel reader (and its
// CRC32C checks, at load) works on plain files. Contract with the Source: `poll()` lists the base prefix and says
// which versions are complete; `materialize()` returns a local directory holding exactly the listed objects of a
// version, downloading only what the cache lacks (a version whose listing, by keys, sizes and ETags, is unchanged is
// never downloaded again, also across restarts).
//
// When is a version complete? Object stores have no atomic rename, so a reader can list a version half uploaded.
//  - `tfsvc export --repo s3://...` writes `.tfsvc-incomplete` first, then the files, then `.tfsvc-complete` (a
//    manifest of every key and size), then deletes `.tfsvc-incomplete`: a version is taken once its manifest is there
//    and every listed object matches it.
//  - A version with `.tfsvc-incomplete` and no manifest is an upload in progress (or one that died): never taken.
//  - A version written by another tool (neither marker) is taken once its listing is the same on two polls in a row,
//    as the file-system source does for directories; at a server's first poll, versions are taken as they are.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StorageError } from '../errors.js';
import type { S3Object, S3Store } from './s3-store.js';
import { s3Url, type S3Location } from './s3-url.js';

export const COMPLETE_MARKER = '.tfsvc-complete';
export const INCOMPLETE_MARKER = '.tfsvc-incomplete';
/** Written into a cached version directory: the listing it was downloaded from. */
const CACHE_STAMP = '.tfsvc-source';

export interface CompletionManifest {
  readonly format: 'tfsvc-upload/1';
  readonly files: { key: string; size: number }[];
}

export interface RemoteVersion {
  readonly version: number;
  /** Objects of the version (keys relative to the version's prefix), markers excluded. */
  readonly objects: S3Object[];
  /** Keys, sizes and ETags: equal listings mean equal content. */
  readonly listing: string;
  readonly marker: 'complete' | 'incomplete' | 'none';
}

/** Groups a base prefix's objects by their numeric first path segment (TF Serving's version directory names). */
export function groupVersions(objects: S3Object[]): RemoteVersion[] {
  const by = new Map<number, { objects: S3Object[]; complete: boolean; incomplete: boolean }>();
  for (const o of objects) {
    const slash = o.key.indexOf('/');
    if (slash <= 0) continue;
    const dir = o.key.slice(0, slash);
    if (!/^\d+$/.test(dir)) continue;
    const version = Number(dir);
    const rel = o.key.slice(slash + 1);
    const entry = by.get(version) ?? { objects: [], complete: false, incomplete: false };
    if (rel === COMPLETE_MARKER) entry.complete = true;
    else if (rel === INCOMPLETE_MARKER) entry.incomplete = true;
    else entry.objects.push({ ...o, key: rel });
    by.set(version, entry);
  }
  return [...by.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, e]) => {
      const objects = e.objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return {
        version,
        objects,
        listing: objects.map((o) => `${o.key}:${o.size}:${o.etag}`).join('|'),
        marker: e.complete ? 'complete' : e.incomplete ? 'incomplete' : 'none',
      };
    });
}

export class S3VersionMirror {
  private previous = new Map<number, string>();
  /** Listing of each version whose manifest matched it. */
  private matched = new Map<number, string>();
  private polled = false;
  private readonly cacheRoot: string;

  constructor(
    private readonly store: S3Store,
    private readonly base: S3Location,
    cacheDir: string,
  ) {
    // One folder per base URL, named by its hash: nothing of the URL needs escaping, and two models never share one.
    this.cacheRoot = path.join(cacheDir, createHash('sha256').update(s3Url(base)).digest('hex').slice(0, 16));
  }

  /** Lists the base prefix; returns the complete versions. Throws (the store's error, no secrets) when listing fails. */
  async poll(): Promise<RemoteVersion[]> {
    const versions = groupVersions(await this.store.list(this.base));
    const first = !this.polled;
    this.polled = true;
    const ready: RemoteVersion[] = [];
    for (const v of versions) {
      if (v.objects.length === 0) continue;
      if (v.marker === 'complete') {
        if (await this.matchesManifest(v)) ready.push(v);
      } else if (v.marker === 'none' && (first || this.previous.get(v.version) === v.listing)) {
        ready.push(v);
      }
    }
    this.previous = new Map(versions.map((v) => [v.version, v.listing]));
    return ready;
  }

  private async matchesManifest(v: RemoteVersion): Promise<boolean> {
    // A manifest once matched by this exact listing needs no second read: unchanged versions cost no request per poll.
    // So does one whose exact listing is in the cache (only matched versions are downloaded): also after a restart.
    if (this.matched.get(v.version) === v.listing || this.cached(v)) return true;
    let manifest: CompletionManifest;
    try {
      manifest = JSON.parse(await this.store.readText(this.base, `${v.version}/${COMPLETE_MARKER}`)) as CompletionManifest;
    } catch {
      return false;
    }
    const listed = new Map(v.objects.map((o) => [o.key, o.size]));
    const ok = Array.isArray(manifest.files) && manifest.files.length === v.objects.length && manifest.files.every((f) => listed.get(f.key) === f.size);
    if (ok) this.matched.set(v.version, v.listing);
    return ok;
  }

  /**
   * The local directory of a complete version, downloaded now unless the cache already holds this exact listing.
   * Layout: CACHE/<base hash>/<listing hash>/<version>, so the version directory's parent plays the base path's
   * part: load errors name files as "2/variables/...", as for a local model.
   */
  async materialize(v: RemoteVersion): Promise<string> {
    const dir = this.cacheDirOf(v);
    if (this.cached(v)) return dir;
    const holder = path.dirname(dir);
    mkdirSync(this.cacheRoot, { recursive: true });
    // Download beside the final place, then rename: a crash never leaves a directory that looks complete.
    const tmp = `${holder}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const tmpDir = path.join(tmp, String(v.version));
    try {
      for (const o of v.objects) {
        const file = path.join(tmpDir, ...o.key.split('/'));
        if (!file.startsWith(tmpDir + path.sep)) throw new StorageError(`object key "${o.key}" of ${s3Url(this.base)}/${v.version} escapes its version directory`);
        mkdirSync(path.dirname(file), { recursive: true });
        await this.store.download(this.base, `${v.version}/${o.key}`, file, o.size);
      }
      writeFileSync(path.join(tmpDir, CACHE_STAMP), v.listing);
      rmSync(holder, { recursive: true, force: true });
      renameSync(tmp, holder);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    return dir;
  }

  private cacheDirOf(v: RemoteVersion): string {
    const digest = createHash('sha256').update(`${v.version}\n${v.listing}`).digest('hex').slice(0, 16);
    return path.join(this.cacheRoot, digest, String(v.version));
  }

  /** Whether the cache holds exactly this listing of the version (its stamp is written last). */
  private cached(v: RemoteVersion): boolean {
    const stamp = path.join(this.cacheDirOf(v), CACHE_STAMP);
    return existsSync(stamp) && readFileSync(stamp, 'utf8') === v.listing;
  }

  /** Removes cached versions other than `keep` (the version directories the Source still aspires). */
  prune(keep: Set<string>): void {
    let names: string[];
    try {
      names = readdirSync(this.cacheRoot);
    } catch {
      return;
    }
    const holders = new Set([...keep].map((d) => path.dirname(d)));
    for (const n of names) {
      const p = path.join(this.cacheRoot, n);
      if (!holders.has(p) && !n.includes('.tmp-')) rmSync(p, { recursive: true, force: true });
    }
  }
}
