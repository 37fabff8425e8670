// `tfsvc warmup URL --model NAME [--batch 1,8] [--feature x=float] [--write DIR]`: sends a dummy request for every
// predict signature (and classify/regress ones when --feature names their features) at each batch size (from the
// endpoint's metadata) and prints a summary; --write saves them as a TF Serving warmup
// file (DIR/assets.extra/tf_serving_warmup_requests). Exit 1 when any request failed, 2 on usage/connection errors.
import type { Command } from 'commander';
import { TfsvcError, UsageError } from '../core/errors.js';
import type { TargetOptions } from '../core/load/target.js';
import type { WarmupRequest } from '../core/savedmodel/warmup-file.js';
import { addFeatureOption, addTargetOptions, securityOf, type SecurityFlags } from './target-options.js';

// The HTTP client, cli-table3 and protobufjs (for --write) load inside the action, so `tfsvc --help` and the other
// commands don't pay for them (src/cli.ts registers every command on each start). Static imports: types (erased at
// compile time) and modules every start loads anyway.

interface WarmupFlags extends TargetOptions, SecurityFlags {
  batch: string;
  repeat: string;
  seed: string;
  unknownDim: string;
  timeout: string;
  feature: string[];
  write?: string;
}

export function register(program: Command): void {
  const cmd = addTargetOptions(
    program
      .command('warmup')
      .description('send dummy requests for every signature and batch size (from the metadata); optionally write a TF Serving warmup file')
      .argument('<url>', 'server (http://host:8501 or grpc://host:8500, with --model) or a .../v1/models/NAME[/versions/V] URL'),
  )
    .option('--signature <name>', 'only this signature (default: every signature)')
    .option('--batch <sizes>', 'comma-separated batch sizes', '1')
    .option('--repeat <n>', 'requests per signature and batch size (the first is the cold one)', '1')
    .option('--seed <n>', 'seed for the generated data', '1')
    .option('--unknown-dim <n>', 'size for unknown (-1) non-batch dimensions', '1')
    .option('--timeout <time>', 'per-request timeout', '60s');
  addFeatureOption(cmd)
    .option('--write <dir>', 'write the requests that succeeded to DIR/assets.extra/tf_serving_warmup_requests')
    .action(async (url: string, flags: WarmupFlags) => {
      const [{ parseFeatureFlag }, { fetchMetadata }, { resolveTarget }, { formatMs, parseDuration, parsePositiveInt }, { runWarmup }, { default: Table }] =
        await Promise.all([
          import('../core/load/examples.js'),
          import('../core/load/metadata.js'),
          import('../core/load/target.js'),
          import('../core/load/units.js'),
          import('../core/load/warmup.js'),
          import('cli-table3'),
        ]);
      const target = resolveTarget(url, { ...flags, security: await securityOf(flags) });
      const batches = flags.batch.split(',').map((b) => parsePositiveInt(b.trim(), '--batch'));
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      const meta = await fetchMetadata(target, timeoutMs);
      let signatures = meta.signatures;
      if (flags.signature) {
        signatures = signatures.filter((s) => s.name === flags.signature);
        if (!signatures.length) throw new UsageError(`the model has no signature "${flags.signature}" (it has: ${meta.signatures.map((s) => s.name).join(', ')})`);
      }
      const rows = await runWarmup(target, signatures, {
        batches,
        repeat: parsePositiveInt(flags.repeat, '--repeat'),
        seed: Number.parseInt(flags.seed, 10) || 0,
        unknownDim: parsePositiveInt(flags.unknownDim, '--unknown-dim'),
        timeoutMs,
        features: flags.feature.map(parseFeatureFlag),
        examplesForAny: flags.signature !== undefined,
      });
      const table = new Table({ head: ['signature', 'batch', 'status', 'first', 'warm (median)', 'note'], style: { head: [], border: [] } });
      for (const r of rows) {
        // gRPC rows carry the HTTP equivalent of their status; a success reads as gRPC's OK.
        const status = target.protocol === 'grpc' && r.ok && r.status === 200 ? 'OK' : r.status || '-';
        table.push([r.signature, r.batch || '-', status, formatMs(r.firstMs), formatMs(r.warmMs), (r.note ?? '').slice(0, 60)]);
      }
      const where = target.protocol === 'grpc' ? `${target.origin} model ${target.model}${target.label ? ` label ${target.label}` : ''}` : target.modelPath;
      process.stdout.write(`warmup ${where}${meta.version ? ` (version ${meta.version})` : ''}\n${table.toString()}\n`);
      const sent = rows.filter((r) => r.verb);
      const failed = sent.filter((r) => !r.ok);
      if (flags.write) {
        const good = sent.filter((r) => r.ok && (r.inputs || r.examples));
        if (!good.length) throw new TfsvcError('no request succeeded; nothing to write');
        const [{ encodeExample }, { writeWarmupFile }] = await Promise.all([
          import('../core/engine/example.js'),
          import('../core/savedmodel/warmup-file.js'),
        ]);
        const file = writeWarmupFile(
          flags.write,
          good.map((r): WarmupRequest =>
            r.examples
              ? { kind: r.verb as 'classify' | 'regress', model: target.model, signature: r.signature, examples: r.examples.map(encodeExample) }
              : { kind: 'predict', model: target.model, signature: r.signature, inputs: r.inputs! },
          ),
        );
        process.stdout.write(`wrote ${good.length} requests to ${file}\n`);
      }
      if (failed.length) throw new TfsvcError(`${failed.length} of ${sent.length} warmup requests failed (see the table)`);
      if (!sent.length) throw new UsageError('the model has no signature to warm up (classify/regress signatures need --feature)');
    });
}
