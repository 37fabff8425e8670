// The Manager with a fake Loader (no threads, no files): lifecycle, availability, draining, labels, status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Manager } from '../../src/core/serving/manager.js';
import type { LoadedServable, ServableLoader, VersionSpec } from '../../src/core/serving/loader.js';
import { RequestError } from '../../src/core/errors.js';

class FakeLoader implements ServableLoader {
  loads: number[] = [];
  unloads: number[] = [];
  fail = new Set<number>();
  gates = new Map<number, () => void>();
  holdLoads = false;
  async load(spec: VersionSpec): Promise<LoadedServable> {
    this.loads.push(spec.version);
    if (this.holdLoads) await new Promise<void>((r) => this.gates.set(spec.version, r));
    if (this.fail.has(spec.version)) throw new RequestError('NOT_FOUND', `cannot load ${spec.path}`);
    return {
      signatures: {},
      signatureDefs: {},
      run: async () => ({ v: { dtype: 'DT_INT32', shape: [], data: Int32Array.of(spec.version) } }),
      unload: async () => {
        this.unloads.push(spec.version);
      },
    };
  }
}

const v = (version: number, fingerprint = 'a') => ({ version, path: `/m/${version}`, fingerprint });
/** Acquires, reads the version, releases (a handle left unreleased would keep its version from unloading). */
const latest = (m: Manager, sel?: { version?: number; label?: string }) => {
  const h = m.acquire('m', sel);
  h.release();
  return h.version;
};
const states = (m: Manager, name = 'm') => m.status(name).map((s) => `${s.version}:${s.state}${s.errorCode !== 'OK' ? `:${s.errorCode}` : ''}`);

test('loads aspired versions; latest is the highest AVAILABLE one; status lists versions newest first', async () => {
  const loader = new FakeLoader();
  const m = new Manager(loader);
  m.setAspired('m', [v(1), v(2)]);
  await m.settled();
  assert.deepEqual(states(m), ['2:AVAILABLE', '1:AVAILABLE']);
  assert.equal(latest(m), 2);
  assert.equal(latest(m, { version: 1 }), 1);
});

test('a new version takes traffic only once loaded; the old one unloads after its in-flight handles are released', async () => {
  const loader = new FakeLoader();
  const m = new Manager(loader);
  m.setAspired('m', [v(1)]);
  await m.settled();
  const inFlight = m.acquire('m');
  loader.holdLoads = true;
  m.setAspired('m', [v(2)]);
  assert.equal(latest(m), 1, 'v1 keeps serving while v2 loads');
  loader.gates.get(2)!();
  await new Promise((r) => setImmediate(r));
  assert.equal(latest(m), 2);
  assert.deepEqual(states(m), ['2:AVAILABLE', '1:UNLOADING']);
  assert.deepEqual(loader.unloads, [], 'not unloaded while a request holds it');
  assert.equal(inFlight.version, 1);
  inFlight.release();
  await m.settled();
  assert.deepEqual(loader.unloads, [1]);
  assert.deepEqual(states(m), ['2:AVAILABLE', '1:END']);
});

test('a version that fails to load is reported with its error; the previous keeps serving; it is retried when it changes', async () => {
  const loader = new FakeLoader();
  const m = new Manager(loader);
  m.setAspired('m', [v(1)]);
  await m.settled();
  loader.fail.add(2);
  m.setAspired('m', [v(2)]);
  await m.settled();
  const s = m.status('m');
  assert.deepEqual(states(m), ['2:END:NOT_FOUND', '1:AVAILABLE']);
  assert.match(s[0]!.errorMessage, /cannot load \/m\/2/);
  assert.equal(latest(m), 1);
  m.setAspired('m', [v(2)]); // same fingerprint: not retried
  await m.settled();
  assert.deepEqual(loader.loads, [1, 2]);
  loader.fail.delete(2);
  m.setAspired('m', [v(2, 'b')]);
  await m.settled();
  assert.deepEqual(states(m), ['2:AVAILABLE', '1:END']);
});

test('labels resolve to versions; unknown labels, versions and models give TF Serving errors', async () => {
  const m = new Manager(new FakeLoader());
  m.setAspired('m', [v(1), v(2)], { stable: 1, canary: 2 });
  await m.settled();
  assert.equal(latest(m, { label: 'stable' }), 1);
  assert.equal(latest(m, { label: 'canary' }), 2);
  assert.deepEqual(m.status('m', { label: 'stable' }).map((s) => s.version), [1]);
  const err = (code: string, status: number, text: RegExp) => (e: unknown) => e instanceof RequestError && e.code === code && e.httpStatus === status && text.test(e.message);
  assert.throws(() => m.acquire('m', { label: 'nope' }), err('INVALID_ARGUMENT', 400, /^Unrecognized servable version label: nope$/));
  assert.throws(() => m.acquire('m', { version: 7 }), err('NOT_FOUND', 404, /^Servable not found for request: Specific\(m, 7\)$/));
  assert.throws(() => m.acquire('x'), err('NOT_FOUND', 404, /^Servable not found for request: Latest\(x\)$/));
  assert.throws(() => m.status('x'), err('NOT_FOUND', 404, /^Could not find any versions of model x$/));
  assert.throws(() => m.status('m', { version: 7 }), err('NOT_FOUND', 404, /^Could not find version 7 of model m$/));
});

test('removing a model unloads it after draining; close() unloads everything', async () => {
  const loader = new FakeLoader();
  const m = new Manager(loader);
  m.setAspired('a', [v(1)]);
  m.setAspired('b', [v(1)]);
  await m.settled();
  m.setAspired('a', []);
  await m.settled();
  assert.deepEqual(m.status('a').map((s) => [s.version, s.state]), [[1, 'END']], 'TF Serving keeps the END state');
  assert.throws(() => m.acquire('a'), /Servable not found for request: Latest\(a\)/);
  m.setAspired('a', [v(1)]);
  await m.settled();
  assert.equal(m.status('a')[0]!.state, 'AVAILABLE', 'added back: loaded again');
  m.setAspired('a', []);
  await m.settled();
  const h = m.acquire('b');
  const closing = m.close();
  let closed = false;
  void closing.then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(closed, false, 'close waits for in-flight handles');
  h.release();
  await closing;
  assert.deepEqual(loader.unloads.sort(), [1, 1, 1], 'a twice, b once');
});

test('a label takes effect only once its version is AVAILABLE; a moved label keeps its old version until then', async () => {
  const loader = new FakeLoader();
  loader.holdLoads = true;
  const m = new Manager(loader);
  m.setAspired('m', [v(1)], { stable: 1 });
  assert.throws(() => m.acquire('m', { label: 'stable' }), /Unrecognized servable version label: stable$/);
  loader.gates.get(1)!();
  await m.settled();
  assert.equal(latest(m, { label: 'stable' }), 1);
  // Version 2 arrives and the label moves to it: until 2 is AVAILABLE, `stable` still answers with 1.
  m.setAspired('m', [v(1), v(2)], { stable: 2 });
  assert.equal(latest(m, { label: 'stable' }), 1);
  loader.gates.get(2)!();
  await m.settled();
  assert.equal(latest(m, { label: 'stable' }), 2);
  // A label removed from the config is gone.
  m.setAspired('m', [v(1), v(2)], {});
  assert.throws(() => m.acquire('m', { label: 'stable' }), /Unrecognized servable version label: stable/);
});

test('--allow_version_labels_for_unavailable_models lets a new label name a version still loading', async () => {
  const loader = new FakeLoader();
  loader.holdLoads = true;
  const m = new Manager(loader, {}, { allowVersionLabelsForUnavailableModels: true });
  m.setAspired('m', [v(1)], { canary: 1 });
  assert.throws(() => m.acquire('m', { label: 'canary' }), /Servable not found for request: Specific\(m, 1\)$/);
  loader.gates.get(1)!();
  await m.settled();
  assert.equal(latest(m, { label: 'canary' }), 1);
});

test('an observer that throws does not stop loads, unloads or status', async () => {
  const loader = new FakeLoader();
  const m = new Manager(loader, {
    stateChanged: () => {
      throw new Error('log sink failed');
    },
  });
  m.setAspired('m', [v(1)]);
  await m.settled();
  assert.deepEqual(states(m), ['1:AVAILABLE']);
  m.setAspired('m', [v(2)]);
  await m.settled();
  assert.deepEqual(states(m), ['2:AVAILABLE', '1:END']);
  assert.deepEqual(loader.unloads, [1]);
});
