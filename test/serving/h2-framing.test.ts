// The gRPC framing of the node:http2 server (src/core/serving/grpc/h2-framing.ts), property-checked with fast-check:
// however HTTP/2 cuts a stream into DATA chunks, the reader yields exactly the messages that were framed; a prefix
// over the limit is refused before its body; grpc-timeout and grpc-message follow the protocol's grammar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeGrpcMessage, frameMessage, MessageReader, MessageTooLarge, parseGrpcTimeout, PREALLOCATE_MAX } from '../../src/core/serving/grpc/h2-framing.js';

/** `bytes` cut at the given (sorted, deduplicated) offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const at = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const o of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, o));
    prev = o;
  }
  return out;
}

test('any split of framed messages into chunks yields the same messages, compressed flags included', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ data: fc.uint8Array({ maxLength: 300 }), compressed: fc.boolean() }), { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (messages, offsets) => {
        const wire = Buffer.concat(
          messages.map((m) => {
            const f = frameMessage(m.data);
            f[0] = m.compressed ? 1 : 0;
            return f;
          }),
        );
        const reader = new MessageReader(-1);
        for (const c of cut(wire, offsets)) reader.push(c);
        assert.equal(reader.partial, false);
        assert.deepEqual(
          reader.messages.map((m) => ({ data: new Uint8Array(m.data), compressed: m.compressed })),
          messages.map((m) => ({ data: new Uint8Array(m.data), compressed: m.compressed })),
        );
      },
    ),
    { numRuns: 2000 },
  );
});

test('a truncated stream is partial; a prefix over the limit throws before the body arrives', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), (data, at) => {
      const f = frameMessage(data);
      const reader = new MessageReader(-1);
      reader.push(f.subarray(0, 1 + (at % (f.length - 1))));
      assert.equal(reader.partial, true);
      assert.equal(reader.messages.length, 0);
    }),
    { numRuns: 500 },
  );
  const reader = new MessageReader(1000);
  const prefix = Buffer.from([0, 0, 0, 0x03, 0xe9]); // 1001 bytes announced, none sent
  assert.throws(() => reader.push(prefix), (e: unknown) => e instanceof MessageTooLarge && e.message === 'Received message larger than max (1001 vs. 1000)');
  const exact = new MessageReader(3);
  exact.push(frameMessage(Buffer.from('abc')));
  assert.equal(exact.messages.length, 1, 'a message of exactly the limit is accepted');
});

test('a large message split into chunks: the same bytes, and held only as far as it was sent', () => {
  fc.assert(
    fc.property(fc.integer({ min: PREALLOCATE_MAX - 2, max: PREALLOCATE_MAX + 5000 }), fc.array(fc.nat(), { maxLength: 20 }), (size, offsets) => {
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 8)) & 255;
      const wire = Buffer.concat([frameMessage(data), frameMessage(Buffer.from('next'))]);
      const reader = new MessageReader(-1);
      let sent = 0;
      for (const c of cut(wire, offsets)) {
        reader.push(c);
        sent += c.length;
        if (reader.messages.length === 0 && size > PREALLOCATE_MAX) assert.ok(reader.buffered <= Math.max(0, sent - 5), `${reader.buffered} held after ${sent} bytes`);
      }
      assert.equal(reader.messages.length, 2);
      assert.ok(reader.messages[0]!.data.equals(data));
      assert.equal(reader.messages[1]!.data.toString(), 'next');
    }),
    { numRuns: 40 },
  );
  // 200 MiB announced, 10 bytes sent: 10 bytes held.
  const reader = new MessageReader(-1);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(200 * 1024 * 1024, 1);
  reader.push(Buffer.concat([prefix, Buffer.alloc(10)]));
  assert.equal(reader.buffered, 10);
  assert.equal(reader.partial, true);
});

test('a small message split anywhere: the same bytes; on its first chunk only the bytes sent are held (admission may refuse it there)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.array(fc.nat(), { maxLength: 12 }), (size, offsets) => {
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) & 255;
      const wire = Buffer.concat([frameMessage(data), frameMessage(Buffer.from('next'))]);
      const reader = new MessageReader(-1);
      const chunks = cut(wire, offsets);
      reader.push(chunks[0]!);
      if (reader.messages.length === 0) {
        assert.ok(reader.buffered <= Math.max(0, chunks[0]!.length - 5), `${reader.buffered} held after the first ${chunks[0]!.length} bytes`);
        const first = reader.firstMessagePrefix(1 << 16);
        if (first) assert.ok(first.bytes.equals(data.subarray(0, first.bytes.length)) && first.announced === size);
      }
      for (const c of chunks.slice(1)) reader.push(c);
      assert.equal(reader.messages.length, 2);
      assert.ok(reader.messages[0]!.data.equals(data));
      assert.equal(reader.messages[1]!.data.toString(), 'next');
    }),
    { numRuns: 300 },
  );
});

test('grpc-timeout: up to 8 digits and a unit, converted to ms; anything else is malformed', () => {
  assert.equal(parseGrpcTimeout('1H'), 3_600_000);
  assert.equal(parseGrpcTimeout('2M'), 120_000);
  assert.equal(parseGrpcTimeout('3S'), 3000);
  assert.equal(parseGrpcTimeout('250m'), 250);
  assert.equal(parseGrpcTimeout('1500u'), 1.5);
  assert.equal(parseGrpcTimeout('99999999n'), 99.999999);
  for (const bad of ['', '5', 'm', '123456789m', '1.5S', '-1S', '1s', '1 S']) assert.equal(parseGrpcTimeout(bad), undefined, bad);
});

test('grpc-message: percent-encoding round-trips any text and leaves no header-unsafe byte', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
      const e = encodeGrpcMessage(s);
      assert.match(e, /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$|^$/);
      // (a lone surrogate has no UTF-8 form: it travels as U+FFFD, as any UTF-8 encoder sends it)
      assert.equal(decodeURIComponent(e), Buffer.from(s, 'utf8').toString('utf8'));
    }),
    { numRuns: 2000 },
  );
  assert.equal(encodeGrpcMessage('Servable not found for request: Latest(m)'), 'Servable not found for request: Latest(m)');
  assert.equal(encodeGrpcMessage('50% done '), '50%25 done%20');
});
