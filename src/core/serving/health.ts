// Health signals for orchestrators: liveness (the process answers), readiness (every configured model has an
// AVAILABLE version and the server is not draining) and the standard gRPC health service (grpc.health.v1.Health,
// served by the grpc-health-check package) with service "" for the whole server and one service per model name.
//
// Contract: the owner calls `refresh()` whenever a version changes state or the configured models change, and
// `startDraining()` when shutdown begins, before listeners close, so load balancers stop sending first. Both are cheap.
// Readiness is computed on each probe from the lookup's statuses (a probe is rare; no state to keep coherent).
import type * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { ServableLookup } from './types.js';

export interface Readiness {
  ready: boolean;
  /** One line per thing that is not ready ("model m: no version AVAILABLE (version 1: LOADING)", "server: draining"). */
  notReady: string[];
}

type WatchCall = { end(): void; on(event: 'cancelled', f: () => void): void };

export class Health {
  private draining = false;
  private models: string[];
  private readonly grpcHealth = new HealthImplementation({ '': 'NOT_SERVING' });
  private readonly watchCalls = new Set<WatchCall>();

  constructor(private readonly lookup: Pick<ServableLookup, 'status'>, models: string[]) {
    this.models = [...models];
    this.refresh();
  }

  /** The configured model names changed (model config file reload). */
  setModels(models: string[]): void {
    const gone = this.models.filter((m) => !models.includes(m));
    this.models = [...models];
    // A removed model's service answers NOT_SERVING rather than disappearing under a watcher.
    for (const m of gone) this.grpcHealth.setStatus(m, 'NOT_SERVING');
    this.refresh();
  }

  /** Why `model` cannot serve, or undefined when it has an AVAILABLE version. */
  private modelProblem(model: string): string | undefined {
    let statuses;
    try {
      statuses = this.lookup.status(model);
    } catch {
      return `model ${model}: no version loaded yet`;
    }
    if (statuses.some((s) => s.state === 'AVAILABLE')) return undefined;
    const detail = statuses.map((s) => `version ${s.version}: ${s.state}${s.errorMessage ? ` (${s.errorMessage})` : ''}`).join('; ');
    return `model ${model}: no version AVAILABLE${detail ? ` (${detail})` : ''}`;
  }

  readiness(): Readiness {
    const notReady: string[] = [];
    if (this.draining) notReady.push('server: draining (shutting down)');
    for (const m of this.models) {
      const p = this.modelProblem(m);
      if (p) notReady.push(p);
    }
    return { ready: notReady.length === 0, notReady };
  }

  /** Recomputes the gRPC statuses (call on every version state change). */
  refresh(): void {
    let all = !this.draining;
    for (const m of this.models) {
      const serving = !this.draining && this.modelProblem(m) === undefined;
      if (!serving) all = false;
      this.set(m, serving ? 'SERVING' : 'NOT_SERVING');
    }
    this.set('', all ? 'SERVING' : 'NOT_SERVING');
  }

  private readonly last = new Map<string, ServingStatus>();
  private set(service: string, status: ServingStatus): void {
    // grpc-health-check sends every setStatus to watchers; send only changes.
    if (this.last.get(service) === status) return;
    this.last.set(service, status);
    this.grpcHealth.setStatus(service, status);
  }

  /** Readiness off from now on: /readyz answers 503 and every gRPC health service NOT_SERVING. */
  startDraining(): void {
    this.draining = true;
    this.refresh();
  }

  /**
   * Ends open Watch streams (after they received NOT_SERVING), so a graceful gRPC shutdown, which waits for every open
   * call, is not held up by probes that never hang up.
   */
  endWatches(): void {
    for (const c of this.watchCalls) c.end();
    this.watchCalls.clear();
  }

  /** Adds grpc.health.v1.Health to `server` (grpc-js or h2), remembering Watch calls so endWatches can close them. */
  addToServer(server: Pick<grpc.Server, 'addService'>): void {
    const calls = this.watchCalls;
    const shim = {
      addService(service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void {
        const watch = impl.watch as (call: WatchCall) => void;
        server.addService(service, {
          ...impl,
          watch: (call: WatchCall) => {
            calls.add(call);
            call.on('cancelled', () => calls.delete(call));
            watch(call);
          },
        });
      },
    };
    this.grpcHealth.addToServer(shim as unknown as grpc.Server);
  }
}
