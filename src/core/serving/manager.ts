// Manager: compares the versions a Source aspires to with what is loaded, and moves versions through TF Serving's
// states (START → LOADING → AVAILABLE → UNLOADING → END). It is availability-preserving, like TF Serving's default
// AvailabilityPreservingPolicy:
//  - a new version is loaded (and warmed, by the Loader) before it takes traffic;
//  - a version that is no longer aspired is unloaded only once some aspired version is AVAILABLE (or nothing at all is
//    aspired any more: the model was removed), and only after every handle to it was released, so in-flight requests
//    finish on the version they started on;
//  - a version that fails to load is reported in status (END with its error) and whatever served before keeps serving;
//    it is retried when its directory changes (the Source's fingerprint), e.g. once a half-written copy completes.
// It also owns version labels and answers status, implementing the ServableLookup contract REST and gRPC use.
// Labels follow TF Serving's ServerCore: a label is assigned to a version only once that version is AVAILABLE (a label
// that moves keeps pointing at its previous version until then, so a canary switch never answers NOT_FOUND); with
// allowVersionLabelsForUnavailableModels (--allow_version_labels_for_unavailable_models) a label that is new may point
// at a version that is not AVAILABLE yet.
import { RequestError, type ErrorCodeName } from '../errors.js';
import type { LoadedServable, ServableLoader } from './loader.js';
import type { ServableHandle, ServableLookup, VersionSelector, VersionState, VersionStatus } from './types.js';

export interface AspiredVersion {
  version: number;
  path: string;
  /** Changes when the directory's contents change; a failed version is retried when it does. */
  fingerprint?: string;
}

export interface ManagerEvents {
  /** Every state change; `error` set when a load failed; `path` is the version directory. */
  stateChanged?(name: string, version: number, state: VersionState, error: string | undefined, path: string): void;
}

interface Entry {
  version: number;
  path: string;
  fingerprint?: string;
  state: VersionState;
  errorCode: string;
  errorMessage: string;
  servable?: LoadedServable;
  refs: number;
  onDrained?: () => void;
}

interface Model {
  name: string;
  entries: Map<number, Entry>;
  aspired: Map<number, AspiredVersion>;
  /** Labels in force (what requests resolve). */
  labels: Record<string, number>;
  /** Labels the config asks for; each moves into `labels` once its rule allows (see the file comment). */
  wantedLabels: Record<string, number>;
}

export interface ManagerOptions {
  /** TF Serving's --allow_version_labels_for_unavailable_models: a new label may name a version not AVAILABLE yet. */
  allowVersionLabelsForUnavailableModels?: boolean;
}

function errorCodeOf(err: unknown): ErrorCodeName {
  return err instanceof RequestError ? err.code : 'UNKNOWN';
}

export class Manager implements ServableLookup {
  private readonly models = new Map<string, Model>();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly loader: ServableLoader,
    private readonly events: ManagerEvents = {},
    private readonly options: ManagerOptions = {},
  ) {}

  /** The Source's word on which versions of `name` should be served, and its labels. Starts loads/unloads. */
  setAspired(name: string, versions: AspiredVersion[], labels: Record<string, number> = {}): void {
    if (this.closed) return;
    let m = this.models.get(name);
    if (!m) {
      if (versions.length === 0) return;
      m = { name, entries: new Map(), aspired: new Map(), labels: {}, wantedLabels: {} };
      this.models.set(name, m);
    }
    m.aspired = new Map(versions.map((v) => [v.version, v]));
    m.wantedLabels = { ...labels };
    this.reconcile(m);
  }

  /** Names of the models known (configured now, or configured before: their versions are END). */
  modelNames(): string[] {
    return [...this.models.keys()];
  }

  private setState(m: Model, e: Entry, state: VersionState, error?: { code: string; message: string }): void {
    e.state = state;
    e.errorCode = error?.code ?? 'OK';
    e.errorMessage = error?.message ?? '';
    try {
      this.events.stateChanged?.(m.name, e.version, state, error?.message, e.path);
    } catch {
      // An observer (logging, metrics) that throws must not stop the state machine half way: that would leave the
      // version out of reconcile and, inside a load's promise callback, turn into an unhandled rejection.
    }
  }

  /** Moves the wanted labels into force where TF Serving's rule allows (see the file comment); drops removed ones. */
  private applyLabels(m: Model): void {
    const next: Record<string, number> = {};
    for (const [label, version] of Object.entries(m.wantedLabels)) {
      const current = m.labels[label];
      const available = m.entries.get(version)?.state === 'AVAILABLE';
      if (available || current === version || (current === undefined && this.options.allowVersionLabelsForUnavailableModels)) next[label] = version;
      else if (current !== undefined) next[label] = current;
    }
    m.labels = next;
  }

  private reconcile(m: Model): void {
    this.applyLabels(m);
    // Loads: aspired versions never tried, unloaded earlier, or failed and changed on disk since.
    for (const a of m.aspired.values()) {
      const e = m.entries.get(a.version);
      const retry = e?.state === 'END' && (e.errorCode === 'OK' || e.fingerprint !== a.fingerprint);
      if (!e || retry) this.startLoad(m, a);
    }
    // Unloads: un-aspired AVAILABLE versions, once that cannot leave the model without a serving version it should have.
    const aspiredAvailable = [...m.aspired.keys()].some((v) => m.entries.get(v)?.state === 'AVAILABLE');
    if (aspiredAvailable || m.aspired.size === 0) {
      for (const e of m.entries.values()) {
        if (e.state === 'AVAILABLE' && !m.aspired.has(e.version)) this.startUnload(m, e);
      }
    }
    // A model removed from the config keeps its versions' END states, as TF Serving's ServableStateMonitor does:
    // GetModelStatus then says END (requests get NOT_FOUND), and a config that adds it back loads it again.
    this.checkSettled();
  }

  private startLoad(m: Model, a: AspiredVersion): void {
    const e: Entry = { version: a.version, path: a.path, fingerprint: a.fingerprint, state: 'START', errorCode: 'OK', errorMessage: '', refs: 0 };
    m.entries.set(a.version, e);
    this.setState(m, e, 'LOADING');
    this.loader.load({ name: m.name, version: a.version, path: a.path }).then(
      (servable) => {
        if (this.closed) {
          void servable.unload();
          this.setState(m, e, 'END');
          this.checkSettled();
          return;
        }
        e.servable = servable;
        this.setState(m, e, 'AVAILABLE');
        this.reconcile(m);
      },
      (err: unknown) => {
        this.setState(m, e, 'END', { code: errorCodeOf(err), message: (err as Error)?.message ?? String(err) });
        this.reconcile(m);
      },
    );
  }

  private startUnload(m: Model, e: Entry): void {
    this.setState(m, e, 'UNLOADING');
    const drained = new Promise<void>((resolve) => {
      if (e.refs === 0) resolve();
      else e.onDrained = resolve;
    });
    void drained
      .then(() => e.servable?.unload())
      .catch(() => undefined)
      .then(() => {
        e.servable = undefined;
        this.setState(m, e, 'END');
        this.reconcile(m);
      });
  }

  private resolveVersion(m: Model | undefined, name: string, selector: VersionSelector | undefined): number | undefined {
    if (selector?.label !== undefined) {
      const v = m?.labels[selector.label];
      if (v === undefined) throw new RequestError('INVALID_ARGUMENT', `Unrecognized servable version label: ${selector.label}`);
      return v;
    }
    void name;
    return selector?.version;
  }

  acquire(name: string, selector?: VersionSelector): ServableHandle {
    const m = this.models.get(name);
    const version = this.resolveVersion(m, name, selector);
    let e: Entry | undefined;
    if (version !== undefined) {
      e = m?.entries.get(version);
      if (e?.state !== 'AVAILABLE') throw new RequestError('NOT_FOUND', `Servable not found for request: Specific(${name}, ${version})`);
    } else {
      for (const c of m?.entries.values() ?? []) if (c.state === 'AVAILABLE' && (!e || c.version > e.version)) e = c;
      if (!e) throw new RequestError('NOT_FOUND', `Servable not found for request: Latest(${name})`);
    }
    const entry = e;
    const servable = entry.servable!;
    entry.refs++;
    let released = false;
    return {
      name,
      version: entry.version,
      signatures: servable.signatures,
      signatureDefs: servable.signatureDefs,
      run: (signature, inputs, options) => servable.run(signature, inputs, options),
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        if (entry.refs === 0 && entry.onDrained) {
          const done = entry.onDrained;
          entry.onDrained = undefined;
          done();
        }
      },
    };
  }

  status(name: string, selector?: VersionSelector): VersionStatus[] {
    const m = this.models.get(name);
    if (!m || m.entries.size === 0) throw new RequestError('NOT_FOUND', `Could not find any versions of model ${name}`);
    const version = this.resolveVersion(m, name, selector);
    let entries = [...m.entries.values()];
    if (version !== undefined) {
      entries = entries.filter((e) => e.version === version);
      if (entries.length === 0) throw new RequestError('NOT_FOUND', `Could not find version ${version} of model ${name}`);
    }
    return entries
      .sort((a, b) => b.version - a.version)
      .map((e) => ({ version: e.version, state: e.state, errorCode: e.errorCode, errorMessage: e.errorMessage }));
  }

  /** True while some version is loading or unloading. */
  busy(): boolean {
    for (const m of this.models.values()) for (const e of m.entries.values()) if (e.state === 'LOADING' || e.state === 'START' || e.state === 'UNLOADING') return true;
    return false;
  }

  /** Resolves once no version is loading or unloading (after the Source's latest word was acted on). */
  settled(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private checkSettled(): void {
    if (this.busy() || this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Unloads everything after in-flight requests finish; new acquires fail from now on. */
  async close(): Promise<void> {
    for (const m of this.models.values()) {
      m.aspired = new Map();
      this.reconcile(m);
    }
    this.closed = true;
    await this.settled();
  }
}
