// webgpu agrees with wasm on every model in ../shared/models that loads on wasm, on generated inputs at batch 1, 7, 32
// and 128: float outputs within 1e-4 relative (WebGPU's float rules allow reassociation and fused multiply-add, so
// bit equality is not expected; values near zero get an absolute floor of 1e-5), integer and string outputs equal.
// Text and lookup-table models included: their host ops read GPU-computed inputs asynchronously (host-read.ts). The
// wild/ models also pass `validate --golden known_answers.json` on webgpu (their real texts and rows: generated
// strings mostly miss the vocabularies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/core/engine/backend.js';
import { loadModel, type EngineModel } from '../../src/core/engine/model.js';
import { generateInputs } from '../../src/core/engine/generate-inputs.js';
import { seededRandom } from '../../src/core/prng.js';
import { resolveModelDir } from '../../src/core/savedmodel/layout.js';
import { readGolden } from '../../src/core/validate/golden.js';
import { validateTarget } from '../../src/core/validate/validate.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { haveSharedModels, needsShared, sharedModel, sharedModelsDir } from '../helpers/shared-models.js';
import { needsWebGpu } from '../helpers/webgpu.js';

const BATCHES = [1, 7, 32, 128];

/** Every SavedModel version directory under ../shared/models (one per model: the newest version). */
function sharedModelDirs(): string[] {
  if (!haveSharedModels) return [];
  const out: string[] = [];
  for (const group of readdirSync(sharedModelsDir)) {
    const g = path.join(sharedModelsDir, group);
    if (!statSync(g).isDirectory()) continue;
    for (const name of readdirSync(g)) {
      const dir = path.join(g, name);
      if (!statSync(dir).isDirectory()) continue;
      try {
        out.push(resolveModelDir(dir).dir);
      } catch {
        // not a model base directory (data files)
      }
    }
  }
  return out.sort();
}

type Outputs = Map<string, Record<string, HostTensor>>;

/** Runs every signature at every batch size (only the `only` runs when given); failed runs are left out. */
async function runAll(dir: string, backend: 'wasm' | 'webgpu', only?: Outputs): Promise<{ outputs: Outputs; model: EngineModel; failures: string[] } | { error: string }> {
  await initBackend(backend);
  let model: EngineModel;
  try {
    model = await loadModel(dir, { backend });
  } catch (err) {
    return { error: (err as Error).message };
  }
  const outputs: Outputs = new Map();
  const failures: string[] = [];
  for (const [key, sig] of Object.entries(model.signatures)) {
    for (const b of BATCHES) {
      if (only && !only.has(`${key}@${b}`)) continue;
      let inputs: Record<string, HostTensor>;
      try {
        ({ inputs } = generateInputs(sig.inputs, { batch: b, values: seededRandom(b * 7919 + key.length) }));
      } catch {
        continue; // inputs tfsvc cannot guess (recorded by both backends alike)
      }
      try {
        outputs.set(`${key}@${b}`, await model.run(key, inputs));
      } catch (err) {
        failures.push(`${key}@${b}: ${(err as Error).message.slice(0, 200)}`);
      }
    }
  }
  return { outputs, model, failures };
}

function compare(where: string, a: HostTensor, b: HostTensor): string | undefined {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return `${where}: ${a.dtype}[${a.shape}] vs ${b.dtype}[${b.shape}]`;
  if (Array.isArray(a.data)) {
    const bd = b.data as Uint8Array[];
    for (let i = 0; i < a.data.length; i++) if (Buffer.compare(a.data[i]!, bd[i]!) !== 0) return `${where}: string ${i} differs`;
    return undefined;
  }
  const float = /FLOAT|DOUBLE|HALF/.test(a.dtype);
  const ad = a.data as ArrayLike<number | bigint>;
  const bd = b.data as ArrayLike<number | bigint>;
  for (let i = 0; i < ad.length; i++) {
    const x = Number(ad[i]);
    const y = Number(bd[i]);
    const ok = float ? Math.abs(x - y) <= 1e-4 * Math.max(Math.abs(x), Math.abs(y)) + 1e-5 || (Number.isNaN(x) && Number.isNaN(y)) : x === y;
    if (!ok) return `${where}: element ${i}: wasm ${x} vs webgpu ${y}`;
  }
  return undefined;
}

const dirs = sharedModelDirs();

for (const dir of dirs) {
  const name = path.relative(sharedModelsDir, dir);
  test(`webgpu agrees with wasm: ${name}`, { ...needsShared, ...needsWebGpu, timeout: 600_000 }, async (t) => {
    const wasm = await runAll(dir, 'wasm');
    if ('error' in wasm) {
      t.skip(`does not load on wasm: ${wasm.error.slice(0, 160)}`);
      return;
    }
    wasm.model.dispose();
    if (wasm.outputs.size === 0) {
      t.skip(`does not run on wasm: ${wasm.failures[0] ?? 'no signature can be fed generated inputs'}`);
      return;
    }
    // Only what runs on wasm is compared (the rest is not a webgpu question).
    const gpu = await runAll(dir, 'webgpu', wasm.outputs);
    assert.ok(!('error' in gpu), `loads on wasm but not on webgpu: ${'error' in gpu ? gpu.error : ''}`);
    gpu.model.dispose();
    assert.deepEqual(gpu.failures, [], 'runs that succeed on wasm fail on webgpu');
    const problems: string[] = [];
    for (const [k, outs] of wasm.outputs) {
      const other = gpu.outputs.get(k);
      assert.ok(other, `${k} missing on webgpu`);
      for (const [alias, t1] of Object.entries(outs)) {
        const p = other[alias] ? compare(`${k} ${alias}`, t1, other[alias]!) : `${k} ${alias}: missing on webgpu`;
        if (p) problems.push(p);
      }
    }
    assert.deepEqual(problems, []);
    t.diagnostic(`${wasm.outputs.size} runs compared (${BATCHES.join(', ')} rows per signature)`);
  });
}

const WILD = ['petfinder_lookup', 'finsent_textvec', 'fakenews_textvec', 'espcn_x2', 'msft_lstm', 'msft_gru', 'sms_spam_lstm'];

for (const name of WILD) {
  test(`webgpu gives the known answers: wild/${name}`, { ...needsShared, ...needsWebGpu, timeout: 600_000 }, async () => {
    const dir = sharedModel(`wild/${name}`);
    const golden = await readGolden(path.join(dir, 'known_answers.json'));
    const report = await validateTarget(dir, { golden, backend: 'webgpu' });
    const failed = report.versions.flatMap((v) => v.checks.filter((c) => c.status === 'fail').map((c) => `${c.check}: ${c.detail}`));
    assert.deepEqual(failed, []);
    assert.ok(report.versions[0]!.checks.some((c) => c.check.startsWith('golden') && c.status === 'pass'), JSON.stringify(report.versions[0]!.checks));
  });
}

test('the shared models were found', needsShared, () => {
  assert.ok(dirs.length >= 10, `${dirs.length} models under ${sharedModelsDir}`);
});
