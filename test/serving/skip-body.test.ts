// Stepping over a refused request's unread body (src/core/serving/rest/skip-body.ts): node:http's parser must hand
// none of those bytes to JavaScript, keep the connection in step for the requests that follow on it (pipelined or
// not), and give every later body, on this connection or on one that reuses the pooled parser, in full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { skipUnreadBody } from '../../src/core/serving/rest/skip-body.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** A server that refuses requests with `x-refuse` at once (skipping their bodies) and echoes the others' body hash. */
async function server(t: { after(fn: () => unknown): void }, skipAfterEnd = false) {
  const refused: { skipped: boolean; bytesSeen: number }[] = [];
  const s = http.createServer((req, res) => {
    if (req.headers['x-refuse']) {
      const r = { skipped: skipUnreadBody(req), bytesSeen: 0 };
      refused.push(r);
      req.on('data', (c: Buffer) => (r.bytesSeen += c.length));
      res.writeHead(503, { 'content-length': 4 }).end('full');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      // Too late to skip: the body is complete and the parser may be in the next request already.
      if (skipAfterEnd) assert.equal(skipUnreadBody(req), false);
      const answer = `${body.length} ${sha(body)}`;
      res.writeHead(200, { 'content-length': answer.length }).end(answer);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => s.close(() => r())));
  s.keepAliveTimeout = 10_000;
  return { port: (s.address() as AddressInfo).port, refused, close: () => s.closeAllConnections() };
}

const head = (len: number, refuse: boolean) => `POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: ${len}\r\n${refuse ? 'x-refuse: 1\r\n' : ''}\r\n`;

/** Writes `bytes` on one connection and collects `n` responses (status + body), in order. */
function exchange(port: number, bytes: Buffer | Buffer[], n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const out: string[] = [];
    socket.on('data', (d) => {
      data += d.toString('latin1');
      for (;;) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) break;
        const len = Number(/content-length: (\d+)/i.exec(data.slice(0, end))![1]);
        if (data.length < end + 4 + len) break;
        out.push(`${data.slice(9, 12)} ${data.slice(end + 4, end + 4 + len)}`);
        data = data.slice(end + 4 + len);
        if (out.length === n) {
          socket.destroy();
          resolve(out);
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (out.length < n ? reject(new Error(`closed after ${out.length} of ${n} responses`)) : undefined));
    for (const b of Array.isArray(bytes) ? bytes : [bytes]) socket.write(b);
  });
}

test('a refused body is stepped over; the requests pipelined after it get their bodies in full', async (t) => {
  const { port, refused } = await server(t);
  const a = Buffer.alloc(70_000, 'a');
  const b = Buffer.from('{"instances": [1, 2, 3]}');
  const big = Buffer.alloc(1_000_000, 'x');
  const mid = Buffer.alloc(300_000, 'y');
  const wire = Buffer.concat([
    Buffer.from(head(big.length, true)), big,
    Buffer.from(head(a.length, false)), a,
    Buffer.from(head(mid.length, true)), mid,
    Buffer.from(head(b.length, false)), b,
  ]);
  const answers = await exchange(port, wire, 4);
  assert.deepEqual(answers, ['503 full', `200 ${a.length} ${sha(a)}`, '503 full', `200 ${b.length} ${sha(b)}`]);
  assert.equal(refused.length, 2);
  for (const r of refused) {
    assert.equal(r.skipped, true);
    assert.equal(r.bytesSeen, 0, 'no byte of a skipped body reaches JavaScript');
  }
});

test('a connection closed in the middle of a skipped body leaves the pooled parser whole for the next connections', async (t) => {
  const { port, refused } = await server(t);
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(head(500_000, true) + 'z'.repeat(10_000)));
    s.on('data', () => s.destroy());
    s.on('close', () => resolve());
  });
  assert.equal(refused[0]?.skipped, true);
  // node:http reuses the freed parser for the next connection: its bodies must arrive in full.
  for (let i = 0; i < 5; i++) {
    const body = Buffer.alloc(20_000 + i, 48 + i);
    assert.deepEqual(await exchange(port, [Buffer.from(head(body.length, false)), body], 1), [`200 ${body.length} ${sha(body)}`]);
  }
});

test('a body already read is not skipped, and the next pipelined request keeps its body', async (t) => {
  const { port } = await server(t, true);
  const one = Buffer.alloc(1000, 'q');
  const two = Buffer.alloc(2000, 'r');
  const answers = await exchange(port, Buffer.concat([Buffer.from(head(one.length, false)), one, Buffer.from(head(two.length, false)), two]), 2);
  assert.deepEqual(answers, [`200 ${one.length} ${sha(one)}`, `200 ${two.length} ${sha(two)}`]);
});
