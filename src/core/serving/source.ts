// Source: says which versions of each model *should* be served (TF Serving's FileSystemStoragePathSource). It polls
// every model's base path for numeric version directories, applies the model's version policy, and hands the result
// (with labels) to the Manager. With --model_config_file it also re-reads the config file and adds/removes models.
//
// Half-written versions: a version directory that appears (or changes) after startup is only aspired once its
// fingerprint (names, sizes and mtimes of its files) is unchanged across two consecutive polls, so a copy in progress
// is not loaded half way. Errors listing a base path are reported, never thrown out of the polling loop.
//
// Object storage: a base path `s3://bucket/prefix` is listed and mirrored by storage/s3-versions.ts (complete
// versions only, downloaded into a local cache); the Manager then loads the local copies. Those polls are async; an
// error listing or downloading keeps what is aspired, so an outage of the store never unloads a serving version.
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listVersions } from '../savedmodel/layout.js';
import type { S3Store } from '../storage/s3-store.js';
import { isS3Url, parseS3Url } from '../storage/s3-url.js';
import { S3VersionMirror } from '../storage/s3-versions.js';
import type { ModelConfig, VersionPolicy } from './config.js';
import type { AspiredVersion, Manager } from './manager.js';

export interface SourceEvents {
  /** A base path could not be listed (missing, permission denied): reported once per distinct message. */
  error?(model: string, message: string): void;
  /** Object storage failed (listing or download), every time; for metrics. */
  storageError?(model: string): void;
}

export interface SourceOptions {
  /** Where versions from object storage are downloaded (default: the OS temp dir's tfsvc-model-cache). */
  cacheDir?: string;
  /** The store for s3:// base paths (default: from TensorFlow's S3 environment variables). */
  store?: () => S3Store;
}

/** The default local cache of object-storage versions. */
export function defaultModelCacheDir(): string {
  return process.env.TFSVC_MODEL_CACHE_DIR || path.join(os.tmpdir(), 'tfsvc-model-cache');
}

/** Applies a version policy to the versions found on disk (ascending). */
export function applyPolicy(policy: VersionPolicy, found: number[]): number[] {
  const sorted = [...found].sort((a, b) => a - b);
  switch (policy.kind) {
    case 'all':
      return sorted;
    case 'specific':
      return sorted.filter((v) => policy.versions.includes(v));
    case 'latest':
      return sorted.slice(Math.max(0, sorted.length - policy.numVersions));
  }
}

/** Names, sizes and mtimes of everything under `dir` (bounded walk): changes while a copy is still being written. */
export function fingerprint(dir: string): string {
  const parts: string[] = [];
  let budget = 10000;
  const walk = (d: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      parts.push(`${rel}!`);
      return;
    }
    for (const n of names) {
      if (--budget < 0) return;
      const p = path.join(d, n);
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p, `${rel}/${n}`);
        else parts.push(`${rel}/${n}:${st.size}:${st.mtimeMs}`);
      } catch {
        parts.push(`${rel}/${n}!`);
      }
    }
  };
  walk(dir, '');
  return parts.join('|');
}

export class FileSystemSource {
  private models: ModelConfig[];
  private timer: NodeJS.Timeout | undefined;
  /** Fingerprint seen on the previous poll, per model and version: the stability check for new directories. */
  private lastSeen = new Map<string, Map<number, string>>();
  /** Versions already handed to the Manager, with the fingerprint they had. */
  private accepted = new Map<string, Map<number, string>>();
  private reported = new Map<string, string>();
  private mirrors = new Map<string, S3VersionMirror>();
  private store: S3Store | undefined;
  /** Remote polls in progress, per model: one at a time each. */
  private remote = new Map<string, Promise<void>>();
  /** Local copies aspired on the previous remote poll: kept in the cache one more poll (a copy may still be draining). */
  private previousDirs = new Map<string, Set<string>>();

  constructor(
    private readonly manager: Manager,
    models: ModelConfig[],
    private readonly events: SourceEvents = {},
    private readonly options: SourceOptions = {},
  ) {
    this.models = models;
  }

  /** Resolves when the polls of object-storage models started so far have finished (startup waits on it). */
  async ready(): Promise<void> {
    await Promise.all([...this.remote.values()]);
  }

  /** Whether the last poll of a model failed, and why. */
  hasError(model: string): boolean {
    return this.reported.has(model);
  }
  errorOf(model: string): string | undefined {
    return this.reported.get(model);
  }
  /** The last poll's error of a model in object storage (undefined for local models and after a good poll). */
  storageErrorOf(model: string): string | undefined {
    const m = this.models.find((x) => x.name === model);
    return m && isS3Url(m.basePath) ? this.reported.get(model) : undefined;
  }

  private report(model: string, msg: string): void {
    if (this.reported.get(model) !== msg) this.events.error?.(model, msg);
    this.reported.set(model, msg);
  }

  private pollRemote(m: ModelConfig): void {
    if (this.remote.has(m.name)) return;
    const run = async (): Promise<void> => {
      try {
        let mirror = this.mirrors.get(m.basePath);
        if (!mirror) {
          // The AWS SDK loads on the first s3:// model only.
          if (!this.store) {
            const { S3Store: Store, s3ClientFromEnv } = await import('../storage/s3-store.js');
            this.store = this.options.store?.() ?? new Store(s3ClientFromEnv());
          }
          mirror = new S3VersionMirror(this.store, parseS3Url(m.basePath), this.options.cacheDir ?? defaultModelCacheDir());
          this.mirrors.set(m.basePath, mirror);
        }
        const ready = await mirror.poll();
        const chosen = new Set(applyPolicy(m.policy, ready.map((v) => v.version)));
        const aspired: AspiredVersion[] = [];
        for (const v of ready) {
          if (!chosen.has(v.version)) continue;
          aspired.push({ version: v.version, path: await mirror.materialize(v), fingerprint: v.listing });
        }
        // The model may have been removed (config reload) while this poll ran.
        if (!this.models.some((x) => x.name === m.name && x.basePath === m.basePath)) return;
        this.reported.delete(m.name);
        this.manager.setAspired(m.name, aspired, m.labels);
        const dirs = new Set(aspired.map((a) => a.path));
        mirror.prune(new Set([...dirs, ...(this.previousDirs.get(m.name) ?? [])]));
        this.previousDirs.set(m.name, dirs);
      } catch (err) {
        this.events.storageError?.(m.name);
        this.report(m.name, (err as Error).message);
      }
    };
    const p = run().finally(() => this.remote.delete(m.name));
    this.remote.set(m.name, p);
  }

  /** Replaces the set of models (config file reload): removed models are un-aspired (and unloaded after draining). */
  setModels(models: ModelConfig[]): void {
    const keep = new Set(models.map((m) => m.name));
    for (const old of this.models) {
      if (!keep.has(old.name)) {
        this.manager.setAspired(old.name, []);
        this.lastSeen.delete(old.name);
        this.accepted.delete(old.name);
      }
    }
    this.models = models;
    this.pollOnce();
  }

  /** One poll of every base path; synchronous (a few readdir/stat calls per model). */
  pollOnce(): void {
    for (const m of this.models) {
      if (isS3Url(m.basePath)) {
        this.pollRemote(m);
        continue;
      }
      // A model's first listing (at startup, or when a config reload adds it) takes the versions as they are.
      const first = !this.lastSeen.has(m.name);
      let found: { version: number; dir: string }[];
      try {
        found = listVersions(m.basePath).versions;
        this.reported.delete(m.name);
      } catch (err) {
        this.report(m.name, (err as Error).message);
        // An unreadable base path keeps what is loaded: a transient error must not unload a serving model. Versions
        // that show up later go through the stability check like any new version.
        if (!this.lastSeen.has(m.name)) this.lastSeen.set(m.name, new Map());
        continue;
      }
      const prev = this.lastSeen.get(m.name) ?? new Map<number, string>();
      const acc = this.accepted.get(m.name) ?? new Map<number, string>();
      const seen = new Map<number, string>();
      const stable: AspiredVersion[] = [];
      for (const v of found) {
        const fp = fingerprint(v.dir);
        seen.set(v.version, fp);
        const settled = first || acc.get(v.version) === fp || prev.get(v.version) === fp;
        if (settled) stable.push({ version: v.version, path: v.dir, fingerprint: fp });
        else if (acc.has(v.version)) stable.push({ version: v.version, path: v.dir, fingerprint: acc.get(v.version) });
      }
      this.lastSeen.set(m.name, seen);
      const chosen = new Set(applyPolicy(m.policy, stable.map((s) => s.version)));
      const aspired = stable.filter((s) => chosen.has(s.version));
      // The policy applies to settled versions only: a newer version still being written does not yet displace the
      // one serving (the Manager swaps them once the new one is loaded and warm).
      this.accepted.set(m.name, new Map(aspired.map((a) => [a.version, a.fingerprint ?? ''])));
      this.manager.setAspired(m.name, aspired, m.labels);
    }
  }

  /** Polls now and then every `seconds` (TF Serving's --file_system_poll_wait_seconds; 0 polls only once). */
  start(seconds: number): void {
    this.pollOnce();
    if (seconds > 0) {
      this.timer = setInterval(() => this.pollOnce(), seconds * 1000);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
