// Every tfsvc start registers every command (src/cli.ts), so what the command modules import statically is paid by
// `tfsvc --help` and by every other command. The contract (docs/design.md, "Start-up"): building the program loads no
// package but commander; each command loads the engine, protobufjs, undici, cli-table3, ... inside its action.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliModule = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.js')).href;

/** The npm packages a fresh process has loaded after `script` (CommonJS ones, as require.cache lists them). */
function packagesLoadedBy(script: string): string[] {
  const code = `import { createRequire } from 'node:module';
${script}
const names = Object.keys(createRequire(import.meta.url).cache).flatMap((f) => /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(f)?.[1] ?? []);
process.stdout.write(JSON.stringify([...new Set(names)].sort()));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

test('registering every command loads no package but commander', () => {
  assert.deepEqual(packagesLoadedBy(`(await import(${JSON.stringify(cliModule)})).buildProgram();`), ['commander']);
});

test('the check sees packages that a command loads when it runs', () => {
  // Guards the test above: loading the schema module must show up as protobufjs.
  const schema = new URL('./core/proto/schema.js', cliModule).href;
  assert.ok(packagesLoadedBy(`await import(${JSON.stringify(schema)});`).includes('protobufjs'));
});
