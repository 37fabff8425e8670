// The clients against a production-shaped endpoint: HTTPS with mTLS, JWT auth, gRPC over TLS from a TF Serving
// SSLConfig with client verification (startServing with the real engine on TensorFlow's half_plus_two, certificates from openssl at test time).
// `tfsvc bench` passes its SLO gate over HTTPS and over TLS gRPC; warmup, inspect URL and validate URL get through;
// without the token or the CA they do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as jose from 'jose';
import { startServing } from '../../src/core/serving/server.js';
import { makePki, OPENSSL_MISSING, sslConfigText } from '../helpers/pki.js';
import { tmpBase } from '../serving/helpers.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { runCli } from './cli-helper.js';

test('bench, warmup, inspect and validate against HTTPS + mTLS + JWT and TLS gRPC', needsShared, async (t) => {
  const pki = makePki();
  if (!pki) {
    t.skip(OPENSSL_MISSING);
    return;
  }
  const base = tmpBase();
  const model = sharedModel('tfserving/saved_model_half_plus_two_2_versions', t);
  const secret = 'secured-endpoint-test-secret-0123456789';
  const secretFile = path.join(base, 'secret');
  writeFileSync(secretFile, secret);
  const sslConfig = path.join(base, 'ssl.config');
  writeFileSync(sslConfig, sslConfigText(pki.serverKey, pki.serverCert, pki.ca, true));
  const serving = await startServing({
    models: [{ name: 'm', basePath: model, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    grpcPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    warmup: false,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    envelope: {
      restTls: { kind: 'pem', certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca, clientVerify: true },
      grpcTls: { kind: 'ssl-config', file: sslConfig },
      auth: { secretFile, issuer: 'ci' },
    },
  });
  t.after(async () => {
    await serving.close(0);
    rmSync(base, { recursive: true, force: true });
    pki.cleanup();
  });
  const token = await new jose.SignJWT({ sub: 'ci-bench', models: ['m'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('ci')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
  const tokenFile = path.join(base, 'token');
  writeFileSync(tokenFile, `${token}\n`);
  const tls = ['--ca', pki.ca, '--cert', pki.clientCert, '--key', pki.clientKey];
  const https = `https://127.0.0.1:${serving.restPort}`;
  const gate = ['--slo', 'error_rate<1%', '--slo', 'p99<10s'];

  assert.equal(await runCli(['bench', https, '--model', 'm', '--qps', '40', '--duration', '1s', '--no-progress', ...tls, '--token-file', tokenFile, ...gate]), 0, 'bench over HTTPS + mTLS + JWT meets its SLO');
  assert.equal(
    await runCli(['bench', `grpc://127.0.0.1:${serving.grpcPort}`, '--model', 'm', '--qps', '40', '--duration', '1s', '--no-progress', '--grpc-tls', ...tls, '--header', `Authorization: Bearer ${token}`, ...gate]),
    0,
    'bench over TLS gRPC with the token as metadata',
  );
  assert.equal(await runCli(['warmup', https, '--model', 'm', '--repeat', '2', ...tls, '--token-file', tokenFile]), 0);
  assert.equal(await runCli(['inspect', `${https}/v1/models/m`, ...tls, '--header', `Authorization: Bearer ${token}`]), 0);
  assert.equal(await runCli(['validate', `${https}/v1/models/m`, ...tls, '--token-file', tokenFile]), 0);

  // Without the token, or without trusting the CA, the same commands do not pass.
  assert.notEqual(await runCli(['bench', https, '--model', 'm', '--qps', '20', '--duration', '1s', '--no-progress', ...tls, ...gate]), 0);
  assert.notEqual(await runCli(['inspect', `${https}/v1/models/m`, '--token-file', tokenFile]), 0);
  assert.notEqual(await runCli(['warmup', https, '--model', 'm', '--cert', pki.clientCert, '--key', pki.clientKey, '--token-file', tokenFile]), 0);
});
