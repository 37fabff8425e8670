// JWT authentication and per-model authorisation end to end: RS256 and ES256 keys made at test time, published as a
// JWKS over local HTTPS (a CA from test/helpers/pki.ts), tokens signed by jose; REST and gRPC calls on startServing
// with the fake engine. Refusals: expired, wrong audience, wrong issuer, alg none, tampered signature (401 +
// WWW-Authenticate), model not allowed (403); gRPC UNAUTHENTICATED / PERMISSION_DENIED. Health and metrics stay open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as jose from 'jose';
import { Authenticator } from '../../src/core/serving/auth.js';
import { startServing, type ServeOptions } from '../../src/core/serving/server.js';
import { GRPC_IMPLS, servingServiceDefinitions } from '../../src/core/serving/grpc/server.js';
import type { AccessLogEntry } from '../../src/core/serving/rest/server.js';
import { makePki, OPENSSL_MISSING } from '../helpers/pki.js';
import { call, FAKE_ENGINE, headOnlyPost, tmpBase, writeVersion } from './helpers.js';

const ISS = 'https://issuer.test';
const AUD = 'tfsvc-api';

async function keyPair(alg: 'RS256' | 'ES256', kid: string) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg);
  return { alg, kid, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

type Key = Awaited<ReturnType<typeof keyPair>>;

function sign(key: Key, claims: jose.JWTPayload, opts: { iss?: string; aud?: string; exp?: number | string } = {}): Promise<string> {
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(opts.iss ?? ISS)
    .setAudience(opts.aud ?? AUD)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(key.privateKey);
}

function baseOptions(base: string, envelope: ServeOptions['envelope'], extra: Partial<ServeOptions> = {}): ServeOptions {
  return {
    models: [
      { name: 'm', basePath: path.join(base, 'm'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
      { name: 'other', basePath: path.join(base, 'other'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
    ],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    warmup: false,
    loaderModule: FAKE_ENGINE,
    envelope,
    ...extra,
  };
}

for (const impl of GRPC_IMPLS) test(`JWT auth with a JWKS over https: RS256 and ES256, every refusal, REST and gRPC (${impl})`, async (t) => {
  const pki = makePki();
  if (!pki) {
    t.skip(OPENSSL_MISSING);
    return;
  }
  const base = tmpBase();
  writeVersion(path.join(base, 'm'), 1, { mul: 2 });
  writeVersion(path.join(base, 'other'), 1, { mul: 3 });
  const rs = await keyPair('RS256', 'rs-1');
  const es = await keyPair('ES256', 'es-1');
  // The identity provider: a JWKS over HTTPS with a certificate from the test CA.
  let jwksFetches = 0;
  const idp = https.createServer({ key: pki.read(pki.serverKey), cert: pki.read(pki.serverCert) }, (_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: [rs.jwk, es.jwk] }));
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
  const jwksUrl = `https://127.0.0.1:${(idp.address() as net.AddressInfo).port}/.well-known/jwks.json`;
  const access: AccessLogEntry[] = [];
  const serving = await startServing(
    baseOptions(base, { auth: { jwks: jwksUrl, jwksCa: pki.read(pki.ca), issuer: ISS, audience: [AUD] } }, { grpcPort: 0, grpcImpl: impl, accessLog: (e) => access.push(e) }),
  );
  t.after(async () => {
    await serving.close(0);
    await new Promise<void>((r) => idp.close(() => r()));
    rmSync(base, { recursive: true, force: true });
    pki.cleanup();
  });
  const port = serving.restPort;
  const predict = (token?: string, model = 'm') =>
    call(port, 'POST', `/v1/models/${model}:predict`, { instances: [[1]] }, token === undefined ? {} : { Authorization: `Bearer ${token}` });

  // Allowed: RS256 with a list claim, ES256 with a space-separated claim, "*".
  const good = await sign(rs, { sub: 'alice', models: ['m'] });
  let r = await predict(good);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { predictions: [[2]] });
  r = await predict(await sign(es, { sub: 'bob', models: 'x m other' }), 'other');
  assert.equal(r.status, 200, r.text);
  assert.equal((await predict(await sign(es, { sub: 'root', models: '*' }), 'other')).status, 200);
  assert.ok(jwksFetches >= 1, 'the key set came from the https URL');

  // 401s, each saying which check failed, with WWW-Authenticate: Bearer.
  const refused = async (token: string | undefined, pattern: RegExp) => {
    const res = await predict(token);
    assert.equal(res.status, 401, `${pattern}: ${res.text}`);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.match(res.json.error, pattern);
  };
  await refused(undefined, /authentication required/);
  await refused(await sign(rs, { models: ['m'] }, { exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/);
  await refused(await sign(rs, { models: ['m'] }, { aud: 'someone-else' }), /"aud"/);
  await refused(await sign(rs, { models: ['m'] }, { iss: 'https://evil.test' }), /"iss"/);
  await refused(new jose.UnsecuredJWT({ models: ['m'] }).setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').encode(), /invalid token/);
  const [h, p, s] = good.split('.');
  const forged = Buffer.from(JSON.stringify({ ...jose.decodeJwt(good), models: ['*'] })).toString('base64url');
  await refused(`${h}.${forged}.${s}`, /signature/);
  await refused(`${h}.${p}.${s!.slice(0, -4)}AAAA`, /signature|malformed/);
  const other = await keyPair('ES256', 'unknown-kid');
  await refused(await sign(other, { models: ['m'] }), /no key|signature/);

  // 403: valid token, model not allowed (or no models claim).
  r = await predict(good, 'other');
  assert.equal(r.status, 403);
  assert.match(r.json.error, /does not allow model "other"/);
  r = await predict(await sign(rs, { sub: 'nobody' }));
  assert.equal(r.status, 403);
  assert.match(r.json.error, /no "models" claim/);

  // Open: health, metrics.
  assert.equal((await call(port, 'GET', '/healthz')).status, 200);
  assert.equal((await call(port, 'GET', '/readyz')).status, 200);
  const metrics = await call(port, 'GET', '/monitoring/prometheus/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /tfsvc_gate_requests_total\{api="REST",outcome="unauthenticated"\} [1-9]/);
  assert.match(metrics.text, /tfsvc_gate_requests_total\{api="REST",outcome="forbidden"\} 2/);

  // Refused before the body: a request that declares a large body but sends none still gets its 401 at once.
  const early = await headOnlyPost(port, '/v1/models/m:predict', 50_000_000);
  assert.match(early, /^HTTP\/1\.1 401/);

  // Tokens never reach the logs.
  assert.ok(access.length > 5);
  assert.ok(!JSON.stringify(access).includes(good.split('.')[2]!), 'no token in the access log');

  // gRPC: authorization metadata.
  const Prediction = grpc.makeGenericClientConstructor(servingServiceDefinitions().prediction, 'PredictionService');
  const client = new Prediction(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
  t.after(() => client.close());
  const grpcPredict = (token: string | undefined, model: string) =>
    new Promise<number>((resolve) => {
      const md = new grpc.Metadata();
      if (token) md.set('authorization', `Bearer ${token}`);
      client.Predict({ modelSpec: { name: model }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, floatVal: [1] } } }, md, (err: grpc.ServiceError | null) =>
        resolve(err ? err.code : grpc.status.OK),
      );
    });
  assert.equal(await grpcPredict(good, 'm'), grpc.status.OK);
  assert.equal(await grpcPredict(undefined, 'm'), grpc.status.UNAUTHENTICATED);
  assert.equal(await grpcPredict(`${h}.${forged}.${s}`, 'm'), grpc.status.UNAUTHENTICATED);
  assert.equal(await grpcPredict(good, 'other'), grpc.status.PERMISSION_DENIED);
});

test('HS256 secret file, --auth_metrics, and the verified-token cache', async (t) => {
  const base = tmpBase();
  writeVersion(path.join(base, 'm'), 1, { mul: 2 });
  writeVersion(path.join(base, 'other'), 1, { mul: 3 });
  const secret = 'a-shared-secret-of-at-least-32-bytes!!';
  const secretFile = path.join(base, 'secret');
  writeFileSync(secretFile, `${secret}\n`);
  const serving = await startServing(baseOptions(base, { auth: { secretFile, modelClaim: null }, authMetrics: true }));
  t.after(async () => {
    await serving.close(0);
    rmSync(base, { recursive: true, force: true });
  });
  const key = new TextEncoder().encode(secret);
  const token = await new jose.SignJWT({ sub: 'ci' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key);
  const auth = { Authorization: `Bearer ${token}` };
  assert.equal((await call(serving.restPort, 'POST', '/v1/models/other:predict', { instances: [[1]] }, auth)).status, 200, 'no per-model check');
  assert.equal((await call(serving.restPort, 'GET', '/monitoring/prometheus/metrics')).status, 401);
  assert.equal((await call(serving.restPort, 'GET', '/monitoring/prometheus/metrics', undefined, auth)).status, 200);
  assert.equal((await call(serving.restPort, 'GET', '/healthz')).status, 200);
  const wrongKey = await new jose.SignJWT({ sub: 'ci' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(40)));
  assert.equal((await call(serving.restPort, 'GET', '/v1/models/m', undefined, { Authorization: `Bearer ${wrongKey}` })).status, 401);

  // The cache: a token is verified once, keyed by its hash; refused and expired tokens are not kept.
  const a = await Authenticator.create({ secretFile, modelClaim: null });
  await a.authenticate(`Bearer ${token}`);
  await a.authenticate(`bearer ${token}`);
  assert.equal(a.cachedTokens(), 1);
  await assert.rejects(a.authenticate(`Bearer ${wrongKey}`));
  assert.equal(a.cachedTokens(), 1);
  await assert.rejects(Authenticator.create({ secretFile, algorithms: ['none'] }), /never accepted/);
  await assert.rejects(Authenticator.create({ secretFile, algorithms: ['RS256'] }), /does not fit a shared secret/);
});
