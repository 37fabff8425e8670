// Source: says which versions of each model *should* be served (TF Serving's FileSystemStoragePathSource). It polls
// every model's base path for numeric version directories, applies the model's version policy, and hands the result
// (with labels) to the Manager. With --model_config_file it also re-reads the config file and adds/removes models.
//
// Half-written versions: a version directory that appears (or changes) after startup is only aspired once its
// fingerprint (names, sizes and mtimes of its files) is unchanged across two consecutive polls, so a copy in progress
// is not loaded half way. Errors listing a base path are reported, never thrown out of the polling loop.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { listVersions } from '../savedmodel/layout.js';
import type { ModelConfig, VersionPolicy } from './config.js';
import type { AspiredVersion, Manager } from './manager.js';

export interface SourceEvents {
  /** A base path could not be listed (missing, permission denied): reported once per distinct message. */
  error?(model: string, message: string): void;
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

  constructor(
    private readonly manager: Manager,
    models: ModelConfig[],
    private readonly events: SourceEvents = {},
  ) {
    this.models = models;
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
      // A model's first listing (at startup, or when a config reload adds it) takes the versions as they are.
      const first = !this.lastSeen.has(m.name);
      let found: { version: number; dir: string }[];
      try {
        found = listVersions(m.basePath).versions;
        this.reported.delete(m.name);
      } catch (err) {
        const msg = (err as Error).message;
        if (this.reported.get(m.name) !== msg) this.events.error?.(m.name, msg);
        this.reported.set(m.name, msg);
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
