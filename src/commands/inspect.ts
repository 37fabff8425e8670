// `tfsvc inspect [PATH]`: what is in a SavedModel (or a served model), without Python or libtensorflow.
// Parses flags, builds an InspectReport (src/core/inspect/report.ts or remote.ts), renders text or JSON. With
// saved_model_cli's spellings (`tfsvc show --dir D --tag_set serve --signature_def K`, `--all`) it prints what
// `saved_model_cli show` prints; `tfsvc scan --dir D` is `saved_model_cli scan` (src/core/inspect/saved-model-cli.ts).
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
  dir?: string;
  tag_set?: string[];
  signature_def?: string;
}

interface ScanFlags {
  dir?: string;
  tag_set?: string[];
  tagSet?: string[];
  op_denylist?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .alias('show')
    .description("show a SavedModel's signatures, versions, variables and producer (from disk or a serving URL)")
    .argument('[path]', `SavedModel directory, model base directory with numeric versions, or ${MODEL_URL_EXAMPLE}`)
    .option('--signatures', 'print only the signature table')
    .option('--signature <name>', 'only this signature')
    .option('--tag-set <tags>', 'meta graph tag set, comma-separated (default: serve, or the only meta graph)', parseTags)
    .option('--all', 'add variables (with values of small ones), ops with counts, functions and the object graph')
    .option('--json', 'print one machine-readable JSON document (see docs/inspect.md)')
    .option('--version <n>', 'version to inspect when PATH is a base directory (default: the newest)', parseVersion)
    .option('--no-verify', 'skip checking every variable against its CRC32C')
    .option('--dir <dir>', 'saved_model_cli show: the SavedModel directory (prints saved_model_cli\'s text)')
    .option('--tag_set <tags>', 'saved_model_cli show: list the SignatureDef keys of this meta graph', parseTags)
    .option('--signature_def <key>', 'saved_model_cli show: one signature\'s inputs and outputs (with --tag_set)')
    .option('--debug', 'print stack traces on errors');
  addSecurityOptions(cmd)
    .action(async (pathArg: string | undefined, flags: InspectFlags) => {
      if (flags.dir !== undefined || flags.tag_set !== undefined || flags.signature_def !== undefined) {
        process.stdout.write(await savedModelCliShow(pathArg, flags));
        return;
      }
      const path = pathArg ?? '.';
      const report = await buildReport(path, flags);
      if (flags.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const { renderReport } = await import('../core/inspect/render.js');
      process.stdout.write(renderReport(report, { color, signaturesOnly: flags.signatures, all: flags.all }));
    });

  program
    .command('scan')
    .description('report denylisted ops (ReadFile, WriteFile, PrintV2) in a SavedModel, as saved_model_cli scan; exit 1 when found')
    .argument('[dir]', 'SavedModel directory')
    .option('--dir <dir>', "saved_model_cli's spelling of DIR")
    .option('--tag_set <tags>', 'only this meta graph (default: every meta graph)', parseTags)
    .option('--tag-set <tags>', 'another spelling of --tag_set', parseTags)
    .option('--op_denylist <ops>', 'comma-separated ops to look for (default: WriteFile,ReadFile,PrintV2; "" for none)')
    .option('--debug', 'print stack traces on errors')
    .action(async (dirArg: string | undefined, flags: ScanFlags) => {
      if (dirArg !== undefined && flags.dir !== undefined && dirArg !== flags.dir) throw new UsageError('give the SavedModel as DIR or --dir, not both');
      const dir = flags.dir ?? dirArg;
      if (dir === undefined) throw new UsageError('scan needs the SavedModel directory (DIR or --dir DIR)');
      const { savedModelCliScan } = await import('../core/inspect/saved-model-cli.js');
      // As saved_model_cli: empty entries are dropped, so --op_denylist "" means the empty list.
      const denylist = flags.op_denylist === undefined ? undefined : flags.op_denylist.split(',').map((s) => s.trim()).filter(Boolean);
      const r = await savedModelCliScan(dir, { tagSet: flags.tag_set ?? flags.tagSet, denylist });
      process.stdout.write(r.text);
      // saved_model_cli exits 0 either way; a gate needs a status, so a denylisted op found is exit 1.
      if (r.found.length) process.exitCode = 1;
    });
}

/** saved_model_cli show's text for the flags (saved_model_cli spellings). */
async function savedModelCliShow(pathArg: string | undefined, flags: InspectFlags): Promise<string> {
  if (pathArg !== undefined && flags.dir !== undefined && pathArg !== flags.dir) throw new UsageError('give the SavedModel as PATH or --dir, not both');
  const dir = flags.dir ?? pathArg;
  if (dir === undefined) throw new UsageError('saved_model_cli show needs --dir DIR');
  if (flags.signature_def !== undefined && flags.tag_set === undefined && !flags.all) throw new UsageError('--signature_def needs --tag_set (e.g. --tag_set serve), as in saved_model_cli');
  const { savedModelCliShow: show } = await import('../core/inspect/saved-model-cli.js');
  return show(dir, { tagSet: flags.tag_set, signatureDef: flags.signature_def, all: flags.all });
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
