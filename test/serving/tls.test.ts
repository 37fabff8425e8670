// TLS end to end on loopback with certificates made by openssl at test time (test/helpers/pki.ts): HTTPS for REST
// with and without client verification (mTLS), TLS gRPC from a TF Serving SSLConfig file, certificate rotation without
// a restart, and bad material (mismatched key, expired certificate) failing startup with one clear line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServing, type ServeOptions } from '../../src/core/serving/server.js';
import { GRPC_IMPLS, servingServiceDefinitions, type GrpcImpl } from '../../src/core/serving/grpc/server.js';
import { TlsConfigError } from '../../src/core/serving/tls.js';
import { makePki, OPENSSL_MISSING, sslConfigText, type Pki } from '../helpers/pki.js';
import { FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

interface HttpsReply {
  status: number;
  body: string;
  /** CN of the certificate the server presented. */
  serverCN: string;
}

function get(port: number, urlPath: string, tlsOpts: https.RequestOptions): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: urlPath, method: 'GET', agent: false, ...tlsOpts }, (res) => {
      const cn = String((res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, serverCN: cn }));
    });
    req.on('error', reject);
    req.end();
  });
}

function options(base: string, envelope: ServeOptions['envelope'], grpcPort?: number, grpcImpl?: GrpcImpl): ServeOptions {
  return {
    models: [{ name: 'm', basePath: path.join(base, 'm'), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    grpcPort,
    grpcImpl,
    host: '127.0.0.1',
    pollSeconds: 0,
    warmup: false,
    loaderModule: FAKE_ENGINE,
    envelope,
  };
}

test('HTTPS, mTLS, TLS gRPC from an SSLConfig file, rotation, and bad certificates', async (t) => {
  const pki: Pki | undefined = makePki();
  if (!pki) {
    t.skip(OPENSSL_MISSING);
    return;
  }
  const base = tmpBase();
  writeVersion(path.join(base, 'm'), 1, { mul: 2 });
  t.after(() => {
    rmSync(base, { recursive: true, force: true });
    pki.cleanup();
  });
  const ca = pki.read(pki.ca);

  await t.test('HTTPS: trusted, untrusted, and certificate rotation without restart', async () => {
    // Files the test rotates in place.
    const cert = path.join(base, 'tls.pem');
    const key = path.join(base, 'tls.key');
    copyFileSync(pki.serverCert, cert);
    copyFileSync(pki.serverKey, key);
    const serving = await startServing(options(base, { restTls: { kind: 'pem', certFile: cert, keyFile: key, clientVerify: false }, tlsPollMs: 50 }));
    try {
      assert.equal(serving.restScheme, 'https');
      const ok = await get(serving.restPort, '/v1/models/m', { ca });
      assert.equal(ok.status, 200);
      assert.equal(ok.serverCN, 'server');
      await assert.rejects(get(serving.restPort, '/v1/models/m', {}), /self[- ]signed|unable to (get|verify)/i, 'a client that does not trust the CA fails the handshake');
      // Rotate: new certificate and key written in place; new connections get it, no restart.
      copyFileSync(pki.server2Key, key);
      copyFileSync(pki.server2Cert, cert);
      await until(async () => (await get(serving.restPort, '/healthz', { ca })).serverCN === 'server2', () => undefined);
      // A broken replacement (mismatched key) is refused; the last good pair keeps serving.
      copyFileSync(pki.serverKey, key);
      await new Promise((r) => setTimeout(r, 200));
      const still = await get(serving.restPort, '/v1/models/m', { ca });
      assert.equal(still.status, 200);
      assert.equal(still.serverCN, 'server2');
    } finally {
      await serving.close(0);
    }
  });

  await t.test('mTLS: only clients with a certificate from the configured CA get through', async () => {
    const serving = await startServing(options(base, { restTls: { kind: 'pem', certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca, clientVerify: true } }));
    try {
      const ok = await get(serving.restPort, '/v1/models/m', { ca, cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) });
      assert.equal(ok.status, 200);
      await assert.rejects(get(serving.restPort, '/v1/models/m', { ca }), 'no client certificate');
      await assert.rejects(get(serving.restPort, '/v1/models/m', { ca, cert: pki.read(pki.otherClientCert), key: pki.read(pki.otherClientKey) }), 'certificate from another CA');
    } finally {
      await serving.close(0);
    }
  });

  /** GetModelStatus over gRPC with `creds`: the status code and the answer (or error details). */
  const grpcStatus = (port: number, creds: grpc.ChannelCredentials) => {
    const Model = grpc.makeGenericClientConstructor(servingServiceDefinitions().model, 'ModelService');
    const c = new Model(`127.0.0.1:${port}`, creds) as grpc.Client & Record<string, Function>;
    return new Promise<{ code: number; body?: any }>((resolve) => {
      c.GetModelStatus({ modelSpec: { name: 'm' } }, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: any) => {
        c.close();
        resolve(err ? { code: err.code, body: err.details } : { code: 0, body: res });
      });
    });
  };
  /** CN of the certificate a new TLS connection to the gRPC port is shown (ALPN h2, as gRPC clients connect). */
  const grpcServerCN = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined }, () => {
        const cn = String(s.getPeerCertificate().subject?.CN ?? '');
        s.destroy();
        resolve(cn);
      });
      s.on('error', reject);
    });

  for (const impl of GRPC_IMPLS) {
    await t.test(`gRPC (${impl}) over TLS from a TF Serving SSLConfig (client_verify)`, async () => {
      const config = path.join(base, 'ssl.config');
      writeFileSync(config, sslConfigText(pki.serverKey, pki.serverCert, pki.ca, true));
      const serving = await startServing(options(base, { grpcTls: { kind: 'ssl-config', file: config } }, 0, impl));
      const status = (creds: grpc.ChannelCredentials) => grpcStatus(serving.grpcPort!, creds);
      try {
        const ok = await status(grpc.credentials.createSsl(ca, pki.read(pki.clientKey), pki.read(pki.clientCert)));
        assert.equal(ok.code, 0, JSON.stringify(ok.body));
        assert.equal(ok.body.modelVersionStatus[0].state, 'AVAILABLE');
        assert.equal((await status(grpc.credentials.createSsl(ca))).code, grpc.status.UNAVAILABLE, 'no client certificate');
        assert.equal((await status(grpc.credentials.createSsl(ca, pki.read(pki.otherClientKey), pki.read(pki.otherClientCert)))).code, grpc.status.UNAVAILABLE, 'certificate from another CA');
        assert.equal((await status(grpc.credentials.createInsecure())).code, grpc.status.UNAVAILABLE, 'plaintext');
      } finally {
        await serving.close(0);
      }
    });

    await t.test(`gRPC (${impl}): certificate rotation without restart; a broken replacement keeps the last good pair`, async () => {
      const config = path.join(base, `rotate-${impl}.config`);
      writeFileSync(config, sslConfigText(pki.serverKey, pki.serverCert));
      const serving = await startServing(options(base, { grpcTls: { kind: 'ssl-config', file: config }, tlsPollMs: 50 }, 0, impl));
      const port = serving.grpcPort!;
      try {
        assert.equal(await grpcServerCN(port), 'server');
        assert.equal((await grpcStatus(port, grpc.credentials.createSsl(ca))).code, 0);
        writeFileSync(config, sslConfigText(pki.server2Key, pki.server2Cert));
        await until(async () => (await grpcServerCN(port)) === 'server2', () => undefined);
        const after = await grpcStatus(port, grpc.credentials.createSsl(ca));
        assert.equal(after.code, 0, `a new client gets through with the new certificate: ${JSON.stringify(after.body)}`);
        // A key that does not match the certificate is refused; new connections still get server2.
        writeFileSync(config, sslConfigText(pki.serverKey, pki.server2Cert));
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(await grpcServerCN(port), 'server2');
        assert.equal((await grpcStatus(port, grpc.credentials.createSsl(ca))).code, 0);
      } finally {
        await serving.close(0);
      }
    });
  }

  await t.test('a mismatched key or an expired certificate fails startup with one clear line', async () => {
    const mismatch = startServing(options(base, { restTls: { kind: 'pem', certFile: pki.serverCert, keyFile: pki.server2Key, clientVerify: false } }));
    await assert.rejects(mismatch, (err: Error) => err instanceof TlsConfigError && /private key does not match the certificate/.test(err.message) && !err.message.includes('\n'));
    const expired = startServing(options(base, { restTls: { kind: 'pem', certFile: pki.expiredCert, keyFile: pki.expiredKey, clientVerify: false } }));
    await assert.rejects(expired, (err: Error) => err instanceof TlsConfigError && err.message.includes(pki.expiredCert) && /expired on/.test(err.message));
    const config = path.join(base, 'bad.config');
    writeFileSync(config, 'server_key: "x"\nserver_cerf: "y"\n');
    await assert.rejects(startServing(options(base, { grpcTls: { kind: 'ssl-config', file: config } }, 0)), /bad\.config:2:\d+: .*SSLConfig/);
    // From the command line: exit 1, one line on stderr.
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(CLI)}); await m.main(['node', 'tfsvc', ...process.argv.slice(1)]);`,
        'serve', path.join(base, 'm'), '--rest_api_port=0', '--port=0', '--host=127.0.0.1', `--ssl_cert_file=${pki.serverCert}`, `--ssl_key_file=${pki.server2Key}`],
      { env: { ...process.env, TFSVC_LOADER_MODULE: FAKE_ENGINE }, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^tfsvc: .*server2\.key.*private key does not match the certificate/);
  });
  await t.test('one TF Serving SSLConfig file for REST and gRPC (client_verify); clients trusting another CA fail the handshake', async () => {
    const config = path.join(base, 'both.config');
    writeFileSync(config, sslConfigText(pki.serverKey, pki.serverCert, pki.ca, true));
    const serving = await startServing(options(base, { restTls: { kind: 'ssl-config', file: config }, grpcTls: { kind: 'ssl-config', file: config } }, 0));
    try {
      const ca = pki.read(pki.ca);
      const client = { cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) };
      assert.equal((await get(serving.restPort, '/v1/models/m', { ca, ...client })).status, 200);
      await assert.rejects(get(serving.restPort, '/v1/models/m', { ca }), 'client_verify: no client certificate, no answer');
      await assert.rejects(get(serving.restPort, '/v1/models/m', { ca: pki.read(pki.otherCa), ...client }), /self[- ]signed|unable to (get|verify)/i, 'a client trusting another CA');

      const Model = grpc.makeGenericClientConstructor(servingServiceDefinitions().model, 'ModelService');
      const status = (creds: grpc.ChannelCredentials) =>
        new Promise<number>((resolve) => {
          const c = new Model(`127.0.0.1:${serving.grpcPort}`, creds) as grpc.Client & Record<string, Function>;
          c.GetModelStatus({ modelSpec: { name: 'm' } }, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null) => {
            c.close();
            resolve(err ? err.code : grpc.status.OK);
          });
        });
      assert.equal(await status(grpc.credentials.createSsl(ca, client.key, client.cert)), grpc.status.OK);
      assert.equal(await status(grpc.credentials.createSsl(pki.read(pki.otherCa), client.key, client.cert)), grpc.status.UNAVAILABLE, 'a gRPC client trusting another CA');
    } finally {
      await serving.close(0);
    }
  });
});
