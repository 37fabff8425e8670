// Atomic publishing into a TF Serving repository: versions appear whole or not at all, are never overwritten, --next
// counts up, failed validation publishes nothing, and --warmup writes TF Serving's warmup file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { ModelError, UsageError } from '../../src/core/errors.js';
import { publishModel } from '../../src/core/export/publish.js';
import { decodePlain } from '../../src/core/proto/schema.js';
import { listVersions } from '../../src/core/savedmodel/layout.js';
import { readTFRecordFile } from '../../src/core/savedmodel/tfrecord.js';
import { repoRoot } from '../helpers/shared-models.js';
import { runCli } from './cli.js';

const fixture = path.join(repoRoot, 'fixtures', 'models', 'mnist');
const layersJson = path.join(repoRoot, 'fixtures', 'tfjs', 'mnist-v1', 'model.json');

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-pub-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const leftovers = (base: string) => readdirSync(base).filter((n) => n.startsWith('.tfsvc-export-'));

test('--next publishes 1, then 2; an existing --version is refused and left untouched', async (t) => {
  const repo = tmp(t);
  const a = await publishModel(path.join(fixture, '1'), { repo, name: 'mnist' });
  assert.equal(a.version, 1);
  assert.ok(a.validation?.ok);
  const b = await publishModel(layersJson, { repo, name: 'mnist', next: true });
  assert.equal(b.version, 2);
  assert.equal(b.sourceKind, 'tfjs-layers');
  const before = statSync(path.join(repo, 'mnist', '1', 'saved_model.pb')).mtimeMs;
  await assert.rejects(publishModel(path.join(fixture, '2'), { repo, name: 'mnist', version: 1 }), (e: Error) => e instanceof UsageError && /already exists: refusing to overwrite/.test(e.message));
  assert.equal(statSync(path.join(repo, 'mnist', '1', 'saved_model.pb')).mtimeMs, before);
  assert.deepEqual(listVersions(path.join(repo, 'mnist')).versions.map((v) => v.version), [1, 2]);
  assert.deepEqual(leftovers(path.join(repo, 'mnist')), []);
  assert.equal(statSync(path.join(repo, 'mnist', '2')).mode & 0o055, 0o055 & ~process.umask(), 'published dir is not private');
});

test('a polling reader never sees a partial version directory', async (t) => {
  const repo = tmp(t);
  const base = path.join(repo, 'mnist');
  mkdirSync(base, { recursive: true });
  const want = statSync(path.join(fixture, '2', 'saved_model.pb')).size;
  let polls = 0;
  let sawVersion = false;
  const problems: string[] = [];
  let done = false;
  const poll = async () => {
    while (!done) {
      for (const v of listVersions(base).versions) {
        const pb = path.join(v.dir, 'saved_model.pb');
        if (!existsSync(pb) || statSync(pb).size !== want) problems.push(`version ${v.version} seen without a complete saved_model.pb`);
        else sawVersion = true;
      }
      polls++;
      await new Promise((r) => setImmediate(r));
    }
  };
  const poller = poll();
  const r = await publishModel(path.join(fixture, '2'), {
    repo,
    name: 'mnist',
    // Hold the finished temp dir a moment: the poller must see it as no version at all.
    beforeRename: async () => {
      await new Promise((res) => setTimeout(res, 50));
      assert.deepEqual(listVersions(base).versions, []);
    },
  });
  await new Promise((res) => setTimeout(res, 20));
  done = true;
  await poller;
  assert.equal(r.version, 1);
  assert.deepEqual(problems, []);
  assert.ok(sawVersion, 'the version became visible');
  assert.ok(polls > 10, `${polls} polls`);
});

test('two concurrent --next exports get different versions', async (t) => {
  const repo = tmp(t);
  const [a, b] = await Promise.all([
    publishModel(path.join(fixture, '1'), { repo, name: 'm', next: true }),
    publishModel(path.join(fixture, '2'), { repo, name: 'm', next: true }),
  ]);
  assert.deepEqual([a.version, b.version].sort(), [1, 2]);
  assert.deepEqual(leftovers(path.join(repo, 'm')), []);
});

test('a model that fails validation is not published, leaves no empty repo/name/, and names no deleted temp dir', async (t) => {
  const work = tmp(t);
  const broken = path.join(work, 'broken');
  cpSync(path.join(fixture, '1'), broken, { recursive: true });
  truncateSync(path.join(broken, 'saved_model.pb'), 1000);
  const repo = path.join(work, 'repo');
  await assert.rejects(publishModel(broken, { repo, name: 'mnist' }), (e: Error) => {
    assert.ok(e instanceof ModelError);
    assert.match(e.message, /not published: validation failed \(layout:/);
    assert.doesNotMatch(e.message, /\.tfsvc-export-/, 'the temp copy is gone: the message names the source instead');
    assert.ok(e.message.includes(broken), e.message);
    return true;
  });
  assert.equal(existsSync(repo), false, 'the repo directory this export created is removed again');
  // An existing repo (with another model) stays; only the new, empty name directory goes.
  mkdirSync(path.join(repo, 'other'), { recursive: true });
  await assert.rejects(publishModel(broken, { repo, name: 'mnist' }), ModelError);
  assert.deepEqual(readdirSync(repo), ['other']);
});

test('--warmup N writes a TFRecord of N PredictionLogs that TF Serving replays', async (t) => {
  const repo = tmp(t);
  const r = await publishModel(path.join(fixture, '2'), { repo, name: 'mnist', warmup: 3 });
  // Written with the model validation loaded, before validation's own warmup check replayed it.
  assert.match(r.validation!.versions[0]!.checks.find((c) => c.check === 'warmup')?.detail ?? '', /^3 records, CRCs ok, 3 predict requests replayed/);
  const file = path.join(r.dir, 'assets.extra', 'tf_serving_warmup_requests');
  const records = readTFRecordFile(file); // CRCs checked
  assert.equal(records.length, 3);
  for (const rec of records) {
    const log = decodePlain<any>('tensorflow.serving.PredictionLog', rec, 'tensorflow_serving.proto');
    assert.equal(log.predictLog.request.modelSpec.name, 'mnist');
    assert.equal(log.predictLog.request.modelSpec.signatureName, 'serving_default');
    const image = log.predictLog.request.inputs.image;
    assert.equal(image.dtype, 'DT_FLOAT');
    assert.deepEqual(image.tensorShape.dim.map((d: { size: number }) => d.size), [1, 28, 28]);
    assert.equal(image.tensorContent.length, 784 * 4);
  }
});

test('CLI: export --repo --name --next prints the version; usage errors exit 2', async (t) => {
  const repo = tmp(t);
  const ok = runCli(['export', path.join(fixture, '1'), '--repo', repo, '--name', 'digits', '--next']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /published digits version 1 → .*digits\/1: validated/);
  const json = runCli(['export', layersJson, '--repo', repo, '--name', 'digits', '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).version, 2);
  const taken = runCli(['export', path.join(fixture, '2'), '--repo', repo, '--name', 'digits', '--version', '2']);
  assert.equal(taken.code, 2);
  assert.match(taken.stderr, /digits\/2 already exists: refusing to overwrite/);
  const ten = runCli(['export', path.join(fixture, '2'), '--repo', repo, '--name', 'digits', '--version', '10']);
  assert.equal(ten.code, 0, ten.stderr);
  assert.deepEqual(listVersions(path.join(repo, 'digits')).versions.map((v) => v.version), [1, 2, 10]);
  const noName = runCli(['export', path.join(fixture, '1'), '--repo', repo]);
  assert.equal(noName.code, 2);
  assert.match(noName.stderr, /needs both --repo DIR and --name NAME/);
  const exists = runCli(['export', path.join(fixture, '1'), path.join(repo, 'digits', '1')]);
  assert.equal(exists.code, 2);
});

test('Ctrl-C during an export removes its temp dir and publishes nothing', async (t) => {
  const repo = tmp(t);
  const base = path.join(repo, 'mnist');
  const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import(${JSON.stringify(cli)}).then((m) => m.main(process.argv))`, 'tfsvc', 'export', path.join(fixture, '2'), '--repo', repo, '--name', 'mnist', '--warmup', '20'], { stdio: 'ignore' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  t.after(() => child.kill('SIGKILL'));
  // Interrupt as soon as the temp dir exists (the copy, engine load, warmup and validation are still ahead).
  const deadline = Date.now() + 60_000;
  while (!(existsSync(base) && leftovers(base).length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  assert.equal(leftovers(base).length, 1, 'the export started');
  child.kill('SIGINT');
  const { signal } = await exited;
  assert.equal(signal, 'SIGINT', 'the process still dies by the signal (exit status 130 in a shell)');
  assert.deepEqual(readdirSync(base), [], 'no temp dir and no version left behind');
});

test('published files are readable by other users whatever the source modes', async (t) => {
  const work = tmp(t);
  const src = path.join(work, 'src');
  cpSync(path.join(fixture, '1'), src, { recursive: true });
  mkdirSync(path.join(src, 'assets.extra'));
  chmodSync(path.join(src, 'saved_model.pb'), 0o600);
  chmodSync(path.join(src, 'assets.extra'), 0o500); // read-only: the warmup file must still be written into the copy
  const repo = path.join(work, 'repo');
  const r = await publishModel(src, { repo, name: 'm', warmup: 2 });
  const umask = process.umask();
  assert.equal(statSync(path.join(r.dir, 'saved_model.pb')).mode & 0o777, 0o666 & ~umask);
  assert.equal(statSync(path.join(r.dir, 'assets.extra')).mode & 0o777, 0o777 & ~umask);
  assert.ok(existsSync(path.join(r.dir, 'assets.extra', 'tf_serving_warmup_requests')));
});

test('--next steps over a plain file that holds the next number', async (t) => {
  const repo = tmp(t);
  mkdirSync(path.join(repo, 'm', '1'), { recursive: true });
  cpSync(path.join(fixture, '1'), path.join(repo, 'm', '1'), { recursive: true });
  writeFileSync(path.join(repo, 'm', '2'), 'not a version');
  const r = await publishModel(path.join(fixture, '2'), { repo, name: 'm', next: true });
  assert.equal(r.version, 3);
  assert.deepEqual(leftovers(path.join(repo, 'm')), []);
});

test('a SavedModel that contains the repository is refused with a usage error, leaving nothing behind', async (t) => {
  const sm = path.join(tmp(t), 'sm');
  cpSync(path.join(fixture, '1'), sm, { recursive: true });
  await assert.rejects(publishModel(sm, { repo: sm, name: 'inner' }), (e: Error) => e instanceof UsageError && /contains the repository's model folder/.test(e.message));
  assert.equal(existsSync(path.join(sm, 'inner')), false, 'the model folder this export created is removed again');
});

test('a version spelled with leading zeros (00000001, as TF Serving writes them) counts as taken', async (t) => {
  const repo = tmp(t);
  cpSync(path.join(fixture, '1'), path.join(repo, 'm', '00000001'), { recursive: true });
  await assert.rejects(publishModel(path.join(fixture, '2'), { repo, name: 'm', version: 1 }), (e: Error) => e instanceof UsageError && /m\/00000001 already exists/.test(e.message));
  const r = await publishModel(path.join(fixture, '2'), { repo, name: 'm' });
  assert.equal(r.version, 2);
  assert.deepEqual(readdirSync(path.join(repo, 'm')).sort(), ['00000001', '2']);
});
