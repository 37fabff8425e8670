// `tfsvc inspect [PATH]`: what is in a SavedModel (or a served model), without Python or libtensorflow.
// Parses flags, builds an InspectReport (src/core/inspect/report.ts or remote.ts), renders text or JSON.
import type { Command } from 'commander';
import { addSecurityOptions, securityOf, type SecurityFlags } from './target-options.js';
import { UsageError } from '../core/errors.js';
import type { InspectReport } from '../core/inspect/report.js';
import { isModelUrl, MODEL_URL_EXAMPLE, parseTags, parseVersion } from './options.js';

// The core modules load on use (protobufjs, undici, chalk, cli-table3), so `tfsvc --help` and the other commands don't
// pay for them, and inspecting a directory never loads the HTTP client.

interface InspectFlags extends SecurityFlags {
  signatures?: boolean;
  signature?: string;
  tagSet?: string[];
  all?: boolean;
  json?: boolean;
  version?: number;
  verify: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description("show a SavedModel's signatures, versions, variables and producer (from disk or a serving URL)")
    .argument('[path]', `SavedModel directory, model base directory with numeric versions, or ${MODEL_URL_EXAMPLE}`, '.')
    .option('--signatures', 'print only the signature table')
    .option('--signature <name>', 'only this signature')
    .option('--tag-set <tags>', 'meta graph tag set, comma-separated (default: serve, or the only meta graph)', parseTags)
    .option('--all', 'add variables (with values of small ones), ops with counts, functions and the object graph')
    .option('--json', 'print one machine-readable JSON document (see docs/inspect.md)')
    .option('--version <n>', 'version to inspect when PATH is a base directory (default: the newest)', parseVersion)
    .option('--no-verify', 'skip checking every variable against its CRC32C')
    .option('--debug', 'print stack traces on errors');
  addSecurityOptions(cmd)
    .action(async (path: string, flags: InspectFlags) => {
      const report = await buildReport(path, flags);
      if (flags.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const { renderReport } = await import('../core/inspect/render.js');
      process.stdout.write(renderReport(report, { color, signaturesOnly: flags.signatures, all: flags.all }));
    });
}

/** The report the flags ask for (exported for tests). */
export async function buildReport(path: string, flags: InspectFlags): Promise<InspectReport> {
  const report = isModelUrl(path)
    ? await (await import('../core/inspect/remote.js')).inspectUrl(path, { version: flags.version, security: await securityOf(flags) })
    : await (await import('../core/inspect/report.js')).inspectModel(path, {
        version: flags.version,
        tags: flags.tagSet,
        all: flags.all,
        verify: flags.verify,
        // The signature table alone needs nothing from the checkpoint; JSON always carries the same sections.
        signaturesOnly: Boolean(flags.signatures) && !flags.all && !flags.json,
      });
  if (flags.signature !== undefined) {
    const sig = report.signatures[flags.signature];
    if (!sig) {
      const names = Object.keys(report.signatures).join(', ') || 'none';
      throw new UsageError(`no signature "${flags.signature}" in ${report.dir} (signatures: ${names})`);
    }
    report.signatures = { [flags.signature]: sig };
  }
  return report;
}
