import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeFor } from '../../src/cli.js';
import { ModelError, RequestError, UsageError } from '../../src/core/errors.js';

// CI pipelines branch on tfsvc's exit codes: 2 for usage errors, 1 for a bad model or failed check.
function quietly<T>(fn: () => T): { value: T; stderr: string } {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string) => { stderr += chunk; return true; }) as typeof process.stderr.write;
  try {
    return { value: fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

test('usage errors exit 2 with a one-line message and no stack', () => {
  const { value, stderr } = quietly(() => exitCodeFor(new UsageError('no such directory: /nope'), false));
  assert.equal(value, 2);
  assert.equal(stderr, 'tfsvc: no such directory: /nope\n');
});

test('model errors exit 1; --debug adds the stack', () => {
  const { value, stderr } = quietly(() => exitCodeFor(new ModelError('variables.index: bad magic', 'variables.index'), true));
  assert.equal(value, 1);
  assert.match(stderr, /^tfsvc: variables\.index: bad magic\n/);
  assert.match(stderr, /at /);
});

test('unexpected errors are reported as internal errors, not stack dumps', () => {
  const { value, stderr } = quietly(() => exitCodeFor(new TypeError('x is undefined'), false));
  assert.equal(value, 1);
  assert.match(stderr, /internal error: x is undefined/);
  assert.doesNotMatch(stderr, /at /);
});

test('request errors carry TF Serving HTTP statuses', () => {
  assert.equal(new RequestError('INVALID_ARGUMENT', 'x').httpStatus, 400);
  assert.equal(new RequestError('NOT_FOUND', 'x').httpStatus, 404);
  assert.equal(new RequestError('UNAVAILABLE', 'x').httpStatus, 503);
  assert.equal(new RequestError('DEADLINE_EXCEEDED', 'x').httpStatus, 504);
  assert.equal(new RequestError('UNIMPLEMENTED', 'x').httpStatus, 501);
});
