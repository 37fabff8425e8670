// Reading a request body within limits: every byte arrives intact whether the body is declared (Content-Length) or
// chunked, a large declared body is gathered into one buffer of its own (held once, movable to a decode worker
// without a copy), and a body over the limit is refused as it streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import { BodyTooLarge, readBody } from '../../src/core/serving/rest/body-reader.js';

/** A request whose body arrives in `chunk`-byte pieces; `declare` sets Content-Length. */
function request(body: Buffer, chunk: number, declare: boolean): http.IncomingMessage {
  const req = new EventEmitter() as unknown as http.IncomingMessage & EventEmitter;
  (req as { headers: Record<string, string> }).headers = declare ? { 'content-length': String(body.length) } : {};
  setImmediate(() => {
    for (let i = 0; i < body.length; i += chunk) req.emit('data', body.subarray(i, Math.min(body.length, i + chunk)));
    req.emit('end');
  });
  return req;
}

const read = (req: http.IncomingMessage, limit: number) =>
  new Promise<{ err: unknown; body?: Buffer }>((resolve) => readBody(req, limit, undefined, (err, body) => resolve({ err, body })));

test('bodies arrive intact, declared or chunked; a large declared one is one buffer of its own', async () => {
  const body = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
  for (const declare of [true, false]) {
    const { err, body: got } = await read(request(body, 65_536, declare), 16 * 1024 * 1024);
    assert.equal(err, null);
    assert.ok(got!.equals(body), `declared ${declare}`);
  }
  const { body: got } = await read(request(body, 65_536, true), 16 * 1024 * 1024);
  assert.equal(got!.byteOffset, 0);
  assert.equal(got!.buffer.byteLength, body.length, 'the buffer holds exactly the body');
  const small = Buffer.from('{"instances": [1]}');
  assert.ok((await read(request(small, 4, true), 1024)).body!.equals(small));
});

test('a body over the limit is refused, declared (before reading) or chunked (as it streams)', async () => {
  const body = Buffer.alloc(2 * 1024 * 1024);
  for (const declare of [true, false]) {
    const { err } = await read(request(body, 65_536, declare), 1024 * 1024);
    assert.ok(err instanceof BodyTooLarge, `declared ${declare}: ${String(err)}`);
  }
});

test('a bulk body (8 MiB or more declared) is read in 1 MiB slices with pauses between, and arrives intact', async () => {
  const body = Buffer.alloc(12 * 1024 * 1024 + 5);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
  // A request that honours pause() and resume() as node:http's does: no 'data' while paused.
  const req = new EventEmitter() as unknown as http.IncomingMessage & EventEmitter;
  (req as { headers: Record<string, string> }).headers = { 'content-length': String(body.length) };
  let paused = false;
  let pauses = 0;
  let at = 0;
  const pump = (): void => {
    while (!paused && at < body.length) {
      req.emit('data', body.subarray(at, Math.min(body.length, at + 65_536)));
      at += 65_536;
    }
    if (at >= body.length && !paused) req.emit('end');
  };
  Object.assign(req, {
    pause: () => {
      paused = true;
      pauses++;
      return req;
    },
    resume: () => {
      paused = false;
      setImmediate(pump);
      return req;
    },
  });
  setImmediate(pump);
  const { err, body: got } = await read(req, 64 * 1024 * 1024);
  assert.equal(err, null);
  assert.ok(got!.equals(body));
  assert.equal(pauses, 12, 'one pause per MiB read');
});
