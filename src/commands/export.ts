// `tfsvc export`: three jobs, one command (see docs/export.md).
//   tfsvc export SRC --repo DIR|s3://B/P --name NAME [--version N | --next] [--warmup N]   publish a version atomically
//   tfsvc export SAVEDMODEL --format tfjs OUT                                      a tfjs graph model (model.json + shards)
//   tfsvc export model.json --format savedmodel OUT                                a tfjs model as a SavedModel
// Parses flags, calls one core function, prints what was written.
import { statSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { BackendName } from '../core/engine/types.js';
import { UsageError } from '../core/errors.js';
import { isS3Url } from '../core/storage/s3-url.js';
import { BACKEND_NAMES, parseBackend, parseNonNegativeInt, parseVersion } from './options.js';

// The core modules (the engine, the graph converter, protobufjs) load inside the action, so `tfsvc --help` and the
// other commands don't pay for them, and each job loads only what it uses.

interface ExportFlags {
  repo?: string;
  name?: string;
  version?: number;
  next?: boolean;
  warmup?: number;
  validate: boolean;
  format?: 'tfjs' | 'savedmodel';
  signature?: string;
  optimize: boolean;
  backend: BackendName;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('publish a model version atomically into a repository, or convert between SavedModel and TensorFlow.js')
    .argument('<src>', 'SavedModel directory (version or base directory) or a TensorFlow.js model.json')
    .argument('[out]', 'output directory for --format tfjs|savedmodel')
    .option('--repo <dir|s3://bucket/prefix>', 'model repository to publish into (TF Serving layout: DIR/NAME/VERSION; s3:// uploads with completion markers)')
    .option('--name <name>', 'model name in the repository')
    .option('--version <n>', 'version number to publish (refused if it exists)', parseVersion)
    .option('--next', 'publish as the newest version + 1 (default with --repo)')
    .option('--warmup <n>', 'write assets.extra/tf_serving_warmup_requests with N generated predict requests', parseNonNegativeInt)
    .option('--no-validate', 'publish without running the validate checks first')
    .addOption(new Option('--format <format>', 'convert to this format into OUT').choices(['tfjs', 'savedmodel']))
    .option('--signature <name>', 'signature to export as a tfjs graph model (default serving_default)')
    .option('--no-optimize', 'tfjs: keep the graph as converted (no identity removal, folding or fusion)')
    .option('--backend <name>', `engine backend for validation and warmup: ${BACKEND_NAMES.join(', ')}`, parseBackend, 'wasm')
    .option('--json', 'print the result as JSON')
    .action(async (src: string, out: string | undefined, flags: ExportFlags) => {
      const print = (human: string, json: unknown) => process.stdout.write(flags.json ? JSON.stringify(json, null, 2) + '\n' : human + '\n');
      if (flags.repo || flags.name) {
        if (!flags.repo || !flags.name) throw new UsageError('publishing needs both --repo DIR and --name NAME');
        if (out || flags.format) throw new UsageError('--repo publishes a SavedModel version; do not combine it with OUT or --format');
        const publish = {
          repo: flags.repo,
          name: flags.name,
          version: flags.version,
          next: flags.next,
          warmup: flags.warmup,
          validate: flags.validate,
          backend: flags.backend,
        };
        // An s3:// repository is uploaded with completion markers (docs/deploy.md); a directory is renamed into place.
        const r = isS3Url(flags.repo)
          ? await (await import('../core/export/s3-publish.js')).publishModelToS3(src, publish)
          : await (await import('../core/export/publish.js')).publishModel(src, publish);
        const checks = r.validation ? `validated (${r.validation.summary.passed} checks passed)` : 'not validated (--no-validate)';
        const warm = r.warmup ? `; warmup: ${r.warmup.records} records for ${r.warmup.signatures.join(', ')}` : '';
        const where = isS3Url(r.dir) ? r.dir : path.relative(process.cwd(), r.dir) || r.dir;
        print(`published ${flags.name} version ${r.version} → ${where}: ${checks}${warm}`, {
          name: flags.name,
          version: r.version,
          dir: r.dir,
          sourceKind: r.sourceKind,
          validation: r.validation ?? null,
          warmup: r.warmup ?? null,
        });
        return;
      }
      if (!out) throw new UsageError('give OUT (with --format tfjs|savedmodel), or --repo DIR --name NAME to publish');
      const srcIsFile = isFile(src);
      const format = flags.format ?? (srcIsFile ? 'savedmodel' : 'tfjs');
      if (format === 'savedmodel') {
        if (!srcIsFile) throw new UsageError(`${src} is already a SavedModel directory; --format savedmodel converts a TensorFlow.js model.json (use --repo to publish)`);
        const { exportTfjsAsSavedModel } = await import('../core/export/tfjs-to-savedmodel.js');
        const r = await exportTfjsAsSavedModel(src, out);
        const sig = r.frozen.signatures.serving_default!;
        const io = (m: Record<string, { dtype?: string; tensorShape?: { dim?: { size?: number }[] } }>) =>
          Object.entries(m).map(([k, v]) => `${k} ${(v.dtype ?? '').replace(/^DT_/, '').toLowerCase()}[${(v.tensorShape?.dim ?? []).map((d) => d.size ?? 0).join(',')}]`).join(', ');
        print(`wrote SavedModel ${out} from a tfjs ${r.kind}: ${r.frozen.graphDef.node?.length ?? 0} nodes, serving_default ${io(sig.inputs ?? {})} → ${io(sig.outputs ?? {})}`, {
          out: path.resolve(out),
          kind: r.kind,
          nodes: r.frozen.graphDef.node?.length ?? 0,
          signature: sig,
        });
        return;
      }
      if (srcIsFile) throw new UsageError(`${src} is a file; --format tfjs converts a SavedModel directory`);
      const { resolveModelDir } = await import('../core/savedmodel/layout.js');
      const { exportSavedModelAsTfjs } = await import('../core/export/savedmodel-to-tfjs.js');
      const { dir } = resolveModelDir(src);
      const r = await exportSavedModelAsTfjs(dir, out, { signature: flags.signature, optimize: flags.optimize });
      print(`wrote tfjs graph model ${path.join(out, 'model.json')} (signature ${r.signature}) + ${r.shards.length} weight shard${r.shards.length === 1 ? '' : 's'}, ${(r.weightBytes / 1024).toFixed(1)} KB`, {
        out: path.resolve(out),
        modelJson: r.modelJson,
        shards: r.shards,
        weightBytes: r.weightBytes,
        signature: r.signature,
      });
    });
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    throw new UsageError(`${p}: no such file or directory`);
  }
}
