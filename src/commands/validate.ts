// `tfsvc validate MODEL|REPO`: the CI gate before a model ships. Parses flags, runs src/core/validate, renders a table
// or the --json document, and exits 0 (all checks pass), 1 (a check failed) or 2 (usage).
import { addSecurityOptions, securityOf, type SecurityFlags } from './target-options.js';
import { Option, type Command } from 'commander';
import type { BackendName } from '../core/engine/types.js';
import { BACKEND_NAMES, isModelUrl, MODEL_URL_EXAMPLE, parseBackend, parsePositiveInt, parseTags } from './options.js';

// The core modules (the engine, protobufjs, undici, cli-table3) load inside the action, so `tfsvc --help` and the
// other commands don't pay for them, and validating a directory never loads the HTTP client.

interface ValidateFlags extends SecurityFlags {
  batch: number;
  golden?: string;
  json?: boolean;
  signature?: string;
  backend: BackendName;
  tagSet: string[];
}

export function register(program: Command): void {
  const cmd = program
    .command('validate')
    .description('check a model before it ships: layout, checksums, op support, a real inference of every signature, golden outputs')
    .argument('<path>', `SavedModel directory, model base directory (numeric versions), repository of model base directories, or ${MODEL_URL_EXAMPLE}`)
    .option('--batch <n>', 'rows for unknown batch dimensions of generated inputs', parsePositiveInt, 2)
    .option('--golden <file>', 'JSON of inputs and expected outputs per signature, with tolerances (see docs/validate.md)')
    .option('--signature <name>', 'only this signature (default: every signature)')
    .option('--backend <name>', `engine backend: ${BACKEND_NAMES.join(', ')}`, parseBackend, 'wasm')
    .addOption(new Option('--tag-set <tags>', 'meta graph tag set, comma-separated').argParser(parseTags).default(['serve'], 'serve'))
    .option('--json', 'print one machine-readable JSON report (see docs/validate.md)');
  addSecurityOptions(cmd)
    .action(async (target: string, flags: ValidateFlags) => {
      const golden = flags.golden ? await (await import('../core/validate/golden.js')).readGolden(flags.golden) : undefined;
      const report = isModelUrl(target)
        ? await (await import('../core/validate/remote.js')).validateUrl(target, { batch: flags.batch, golden, signature: flags.signature, security: await securityOf(flags) })
        : await (await import('../core/validate/validate.js')).validateTarget(target, {
            batch: flags.batch,
            golden,
            signature: flags.signature,
            backend: flags.backend,
            tags: flags.tagSet,
          });
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write((await import('../core/validate/report.js')).renderReport(report));
      if (!report.ok) process.exitCode = 1;
    });
}
