// `tfsvc doctor`: every backend listed with whether it runs here and why not; WebGPU adapters with their details.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers/shared-models.js';
import { webgpuAdapter } from '../helpers/webgpu.js';

const bin = path.join(repoRoot, 'bin', 'tfsvc');

test('doctor --json lists each backend, the adapters, and what auto picks', () => {
  const r = JSON.parse(execFileSync(process.execPath, [bin, 'doctor', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  assert.deepEqual(r.backends.map((b: { name: string }) => b.name), ['cpu', 'wasm', 'webgpu', 'tensorflow']);
  const by = Object.fromEntries(r.backends.map((b: { name: string }) => [b.name, b]));
  assert.equal(by.wasm.available, true);
  assert.match(by.wasm.detail, /^wasm \(/);
  assert.equal(by.webgpu.available, Boolean(webgpuAdapter), by.webgpu.detail);
  if (!by.tensorflow.available) assert.match(by.tensorflow.detail, /tfjs-node/);
  if (webgpuAdapter) {
    const a = r.adapters.find((x: { name: string }) => x.name === webgpuAdapter!.name);
    assert.ok(a, JSON.stringify(r.adapters));
    assert.ok(a.limits.maxBufferSize > 0 && a.limits.maxStorageBufferBindingSize > 0);
    assert.equal(typeof a.vendor, 'string');
    if (a.software) assert.notEqual(r.auto.split(' ')[0], 'webgpu', 'auto never picks a software adapter');
  } else {
    assert.match(by.webgpu.detail, /webgpu|adapter|Vulkan/);
  }
});

test('doctor prints a readable table', () => {
  const out = execFileSync(process.execPath, [bin, 'doctor'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.match(out, /^backends:$/m);
  assert.match(out, /^ {2}wasm +available/m);
  assert.match(out, /--backend auto picks: /);
  if (webgpuAdapter) assert.ok(out.includes(webgpuAdapter.name), out);
});
