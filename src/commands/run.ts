import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';

// Placeholder until the command lands: registered so `tfsvc --help` lists it, and it says so when run.
export function register(program: Command): void {
  program
    .command('run')
    .description('(not available yet)')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('`tfsvc run` is not available in this build yet');
    });
}
