// The clients' security flags (bench, warmup, inspect URL, validate URL: src/core/load/security.ts): --token-file,
// --header, --ca, --cert/--key and --grpc-tls become the same headers, metadata and TLS options for REST and gRPC, and a
// mistake in them is a usage error naming the flag, never one that prints a token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../src/core/errors.js';
import { connectOptions, grpcMetadata, securityFromFlags } from '../../src/core/load/security.js';

test('--token-file and --header become the Authorization header and gRPC metadata', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-secflags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, '  eyJ.secret-token.sig \n');
  const s = securityFromFlags({ tokenFile, header: ['X-Team: vision'], grpcTls: true });
  assert.deepEqual(s.headers, { 'X-Team': 'vision', Authorization: 'Bearer eyJ.secret-token.sig' });
  assert.equal(s.grpcTls, true);
  const md = grpcMetadata(s);
  assert.deepEqual(md.get('authorization'), ['Bearer eyJ.secret-token.sig']);
  assert.deepEqual(md.get('x-team'), ['vision']);
  assert.notEqual(grpcMetadata(s), md, 'a new Metadata per call (grpc-js may change it)');
  assert.equal(connectOptions(s), undefined, 'no --ca/--cert: the default TLS trust');

  const usage = (f: Parameters<typeof securityFromFlags>[0], pattern: RegExp) =>
    assert.throws(() => securityFromFlags(f), (e: Error) => e instanceof UsageError && pattern.test(e.message) && !e.message.includes('secret-token'));
  const empty = path.join(dir, 'empty');
  writeFileSync(empty, '\n');
  usage({ tokenFile: empty }, /--token-file .*empty is empty/);
  usage({ tokenFile: path.join(dir, 'missing') }, /cannot read --token-file .*missing: ENOENT/);
  usage({ tokenFile, header: ['authorization: Bearer other'] }, /--token-file or an Authorization --header, not both/);
  usage({ header: ['Authorization Bearer secret-token'] }, /--header "Authorization \.\.\.": expected "Name: value"/);
  usage({ header: ['Bad Name: x'] }, /"Bad Name" is not a valid header name/);
  usage({ cert: tokenFile }, /--cert and --key go together/);
  usage({ ca: path.join(dir, 'no-ca.pem') }, /cannot read --ca .*no-ca\.pem/);
});

test('--ca and --cert/--key become the TLS connect options', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-secflags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(path.join(dir, f), `-----${f}-----\n`);
  const s = securityFromFlags({ ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key') });
  const c = connectOptions(s)!;
  assert.equal(c.ca!.toString(), '-----ca.pem-----\n');
  assert.equal(c.cert!.toString(), '-----client.pem-----\n');
  assert.equal(c.key!.toString(), '-----client.key-----\n');
  assert.equal(s.grpcTls, false);
});
