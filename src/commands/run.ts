// `tfsvc run MODEL --input JSON | --input-file F`: one offline prediction printed as TF Serving would answer it.
// With saved_model_cli's spellings (--dir, --tag_set, --signature_def, --inputs, --input_exprs, --input_examples,
// --outdir, --overwrite) it runs and prints like `saved_model_cli run`. Parses flags and reads the input; the work is
// src/core/run/run-once.ts and src/core/wire/saved-model-cli.ts.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { BackendName } from '../core/engine/types.js';
import { BACKEND_NAMES, parseBackend, parsePositiveInt, parseTags, parseVersion } from './options.js';

// The engine (tfjs, protobufjs) loads inside the action, so `tfsvc --help` and the other commands don't pay for it.

interface RunFlags {
  signature?: string;
  signature_def?: string;
  dir?: string;
  tagSet?: string[];
  tag_set?: string[];
  inputs?: string;
  input_exprs?: string;
  input_examples?: string;
  outdir?: string;
  overwrite?: boolean;
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
    .argument('[model]', 'SavedModel directory, or a model base directory with numeric versions (the newest is used)')
    .option('--dir <dir>', "saved_model_cli's spelling of MODEL")
    .option('--tag_set <tags>', "saved_model_cli's spelling of --tag-set", parseTags)
    .option('--signature_def <key>', "saved_model_cli's spelling of --signature")
    .option('--inputs <spec>', "saved_model_cli inputs from NumPy files: 'x=a.npy;y=b.npz[name]'")
    .option('--input_exprs <spec>', "saved_model_cli inputs as expressions: 'x=[[1.0],[2.0]];y=np.ones((2,3), dtype=np.float32)'")
    .option('--input_examples <spec>', "saved_model_cli tf.Example inputs: 'inputs=[{\"x\": [1.0]}]'")
    .option('--outdir <dir>', 'saved_model_cli output: write each output as DIR/KEY.npy')
    .option('--overwrite', 'with --outdir: replace existing .npy files')
    .option('--input <json>', 'request body: \'{"instances": [...]}\' (row) or \'{"inputs": ...}\' (columnar)')
    .option('--input-file <file>', 'read the request body from a file (- for stdin)')
    .option('--signature <name>', 'signature to run (default: the body\'s signature_name, else serving_default)')
    .option('--tag-set <tags>', 'meta graph tag set, comma-separated (default: serve)', parseTags)
    .option('--backend <name>', `engine backend: ${BACKEND_NAMES.join(', ')}`, parseBackend, 'wasm')
    .option('--version <n>', 'version to run when MODEL is a base directory', parseVersion)
    .option('--max-request-elements <n>', 'refuse requests whose inputs hold more elements (default 2^26 = 67108864)', parsePositiveInt)
    .option('--verbose', 'print the model directory, backend and timings to stderr')
    .option('--debug', 'print stack traces on errors')
    .action(async (positional: string | undefined, flags: RunFlags) => {
      if (positional && flags.dir && positional !== flags.dir) throw new UsageError('give the model as MODEL or --dir, not both');
      const model = positional ?? flags.dir;
      if (!model) throw new UsageError('give the SavedModel directory (MODEL or --dir DIR)');
      if (flags.signature && flags.signature_def && flags.signature !== flags.signature_def) throw new UsageError('--signature and --signature_def name different signatures');
      const signature = flags.signature ?? flags.signature_def;
      const tags = flags.tagSet ?? flags.tag_set;
      if (flags.inputs !== undefined || flags.input_exprs !== undefined || flags.input_examples !== undefined) {
        if (flags.input !== undefined || flags.inputFile !== undefined) throw new UsageError('give a JSON request (--input, --input-file) or saved_model_cli inputs (--inputs, --input_exprs, --input_examples), not both');
        await savedModelCliRun(model, { ...flags, signature, tags });
        return;
      }
      if (flags.outdir !== undefined) throw new UsageError('--outdir writes saved_model_cli outputs: give the inputs with --inputs, --input_exprs or --input_examples');
      const body = readInput(flags);
      const { runOnce } = await import('../core/run/run-once.js');
      const r = await runOnce({ model, version: flags.version, signature, tags, backend: flags.backend, body, maxRequestElements: flags.maxRequestElements });
      process.stdout.write(r.response.endsWith('\n') ? r.response : `${r.response}\n`);
      if (flags.verbose || flags.backend === 'auto') verboseLine(r);
    });
}

function verboseLine(r: { dir: string; version?: number; signature: string; backend: string; loadMs: number; runMs: number }): void {
  const v = r.version !== undefined ? ` version ${r.version}` : '';
  process.stderr.write(`tfsvc: ${r.dir}${v}, signature ${r.signature}, backend ${r.backend}; load ${r.loadMs.toFixed(0)} ms, run ${r.runMs.toFixed(1)} ms\n`);
}

/** saved_model_cli run: inputs from NumPy files / expressions / examples, outputs printed as NumPy arrays. */
async function savedModelCliRun(model: string, flags: RunFlags & { tags?: string[] }): Promise<void> {
  const [{ runFeed }, { feedForSignature, readCliInputs, reportOutputs }] = await Promise.all([
    import('../core/run/run-once.js'),
    import('../core/wire/saved-model-cli.js'),
  ]);
  // Read and parse every input before loading the model: a typo fails in milliseconds.
  const feed = readCliInputs({ inputs: flags.inputs, inputExprs: flags.input_exprs, inputExamples: flags.input_examples }, (m) => process.stderr.write(`tfsvc: warning: ${m}\n`));
  const r = await runFeed({
    model,
    version: flags.version,
    signature: flags.signature ?? 'serving_default',
    tags: flags.tags,
    backend: flags.backend,
    feed: (sig) => feedForSignature(feed, sig),
  });
  process.stdout.write(reportOutputs(r.outputs, flags.outdir, flags.overwrite));
  if (flags.verbose || flags.backend === 'auto') verboseLine(r);
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
