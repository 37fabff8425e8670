// tfsvc's entry point: builds the commander program from src/commands/* and maps errors to exit codes in one place.
// Exit codes: 0 ok, 1 bad model / failed check / SLO failed, 2 usage or connection error.
import { Command, CommanderError } from 'commander';
import { TfsvcError } from './core/errors.js';
import { register as registerInspect } from './commands/inspect.js';
import { register as registerRun } from './commands/run.js';
import { register as registerValidate } from './commands/validate.js';
import { register as registerExport } from './commands/export.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerWarmup } from './commands/warmup.js';
import { register as registerBench } from './commands/bench.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerK8s } from './commands/k8s.js';
import { version } from './version.js';

export function buildProgram(): Command {
  const program = new Command('tfsvc')
    .description('Take a TensorFlow SavedModel from disk to a production endpoint and prove it meets its latency SLO.')
    .version(version, '-V, --version')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    // Positional options: `tfsvc --version` prints tfsvc's version while `tfsvc inspect M --version 7` reaches the
    // subcommand's own --version.
    .enablePositionalOptions()
    .exitOverride();
  for (const register of [registerInspect, registerRun, registerValidate, registerExport, registerServe, registerWarmup, registerBench, registerDoctor, registerK8s]) {
    register(program);
  }
  // With positional options a global flag after the subcommand belongs to the subcommand, so each one accepts --debug
  // (main() reads it from argv).
  for (const cmd of program.commands) {
    if (!cmd.options.some((o) => o.long === '--debug')) cmd.option('--debug', 'print stack traces on errors');
    cmd.exitOverride();
  }
  return program;
}

/** Runs the CLI; never throws: prints a one-line error (stack only with --debug) and sets the exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err, argv.includes('--debug'));
  }
}

/** The stacks of an error's causes (an executor failure wrapped in a RequestError), for --debug. */
function causeStacks(err: Error): string {
  let out = '';
  for (let c = err.cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) out += `caused by: ${c.stack ?? c.message}\n`;
  return out;
}

export function exitCodeFor(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (or help/version, which exit 0).
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof TfsvcError) {
    process.stderr.write(`tfsvc: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n${causeStacks(err)}`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`tfsvc: internal error: ${e?.message ?? String(err)}\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('tfsvc: run again with --debug for a stack trace\n');
  return 1;
}
