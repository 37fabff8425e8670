// Errors of the load commands, beyond the shared ones in ../errors.ts. The CLI maps `exitCode` (src/cli.ts).
import { TfsvcError } from '../errors.js';

/** The target could not be reached or answered nonsense before the run could start. Exit code 2. */
export class ConnectionError extends TfsvcError {
  override readonly exitCode = 2;
}

/** One or more SLO checks failed; the report has already been printed. Exit code 1. */
export class SloFailedError extends TfsvcError {
  override readonly exitCode = 1;
}

/** `--strict` and the generator could not keep its schedule: the numbers cannot be trusted. Exit code 1. */
export class ScheduleMissedError extends TfsvcError {
  override readonly exitCode = 1;
}
