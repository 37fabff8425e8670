// `tfsvc run MODEL --input JSON | --input-file F`: one offline prediction printed as TF Serving would answer it.
// Parses flags and reads the input; the work is src/core/run/run-once.ts.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { BackendName } from '../core/engine/types.js';
import { BACKEND_NAMES, parseBackend, parsePositiveInt, parseTags, parseVersion } from './options.js';

// The engine (tfjs, protobufjs) loads inside the action, so `tfsvc --help` and the other commands don't pay for it.

interface RunFlags {
  signature?: string;
  tagSet?: string[];
  backend: BackendName;
  input?: string;
  inputFile?: string;
  version?: number;
  verbose?: boolean;
  maxRequestElements?: number;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run one prediction offline and print it as TF Serving would answer (saved_model_cli run without Python)')
    .argument('<model>', 'SavedModel directory, or a model base directory with numeric versions (the newest is used)')
    .option('--input <json>', 'request body: \'{"instances": [...]}\' (row) or \'{"inputs": ...}\' (columnar)')
    .option('--input-file <file>', 'read the request body from a file (- for stdin)')
    .option('--signature <name>', 'signature to run (default: the body\'s signature_name, else serving_default)')
    .option('--tag-set <tags>', 'meta graph tag set, comma-separated (default: serve)', parseTags)
    .option('--backend <name>', `engine backend: ${BACKEND_NAMES.join(', ')}`, parseBackend, 'wasm')
    .option('--version <n>', 'version to run when MODEL is a base directory', parseVersion)
    .option('--max-request-elements <n>', 'refuse requests whose inputs hold more elements (default 2^26 = 67108864)', parsePositiveInt)
    .option('--verbose', 'print the model directory, backend and timings to stderr')
    .option('--debug', 'print stack traces on errors')
    .action(async (model: string, flags: RunFlags) => {
      const body = readInput(flags);
      const { runOnce } = await import('../core/run/run-once.js');
      const r = await runOnce({ model, version: flags.version, signature: flags.signature, tags: flags.tagSet, backend: flags.backend, body, maxRequestElements: flags.maxRequestElements });
      process.stdout.write(r.response.endsWith('\n') ? r.response : `${r.response}\n`);
      if (flags.verbose || flags.backend === 'auto') {
        const v = r.version !== undefined ? ` version ${r.version}` : '';
        process.stderr.write(
          `tfsvc: ${r.dir}${v}, signature ${r.signature}, backend ${r.backend}; load ${r.loadMs.toFixed(0)} ms, run ${r.runMs.toFixed(1)} ms\n`,
        );
      }
    });
}

function readInput(flags: RunFlags): string {
  if (flags.input !== undefined && flags.inputFile !== undefined) throw new UsageError('give either --input or --input-file, not both');
  if (flags.input !== undefined) return flags.input;
  if (flags.inputFile !== undefined) {
    try {
      return readFileSync(flags.inputFile === '-' ? 0 : flags.inputFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--input-file ${flags.inputFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
  throw new UsageError('give the request with --input \'{"instances": [...]}\' or --input-file FILE');
}
