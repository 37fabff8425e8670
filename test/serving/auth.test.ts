// JWT authentication and per-model authorisation end to end: RS256 and ES256 keys made at test time, published as a
// JWKS over local HTTPS (a CA from test/helpers/pki.ts), tokens signed by jose; REST and gRPC calls on startServing
// with the fake engine. Refusals: expired, wrong audience, wrong issuer, alg none, tampered signature (401 +
// WWW-Authenticate), model not allowed (403); gRPC UNAUTHENTICATED / PERMISSION_DENIED. Health and metrics stay open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
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
import { call, FAKE_ENGINE, headOnlyPost, tmpBase, until, writeVersion } from './helpers.js';

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

/** An identity provider: serves `keys()` as a JWKS over HTTPS (a certificate from the test CA), counting fetches. */
async function identityProvider(pki: NonNullable<ReturnType<typeof makePki>>, keys: () => object[]) {
  let fetches = 0;
  const server = https.createServer({ key: pki.read(pki.serverKey), cert: pki.read(pki.serverCert) }, (_req, res) => {
    fetches++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: keys() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/.well-known/jwks.json`,
    fetches: () => fetches,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
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
  const idp = await identityProvider(pki, () => [rs.jwk, es.jwk]);
  const jwksUrl = idp.url;
  const access: AccessLogEntry[] = [];
  const serving = await startServing(
    baseOptions(base, { auth: { jwks: jwksUrl, jwksCa: pki.read(pki.ca), issuer: ISS, audience: [AUD] } }, { grpcPort: 0, grpcImpl: impl, accessLog: (e) => access.push(e) }),
  );
  t.after(async () => {
    await serving.close(0);
    await idp.close();
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
  assert.ok(idp.fetches() >= 1, 'the key set came from the https URL');

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
  // A connection remembers the header it last verified; a different header on it is checked on its own.
  const conn = {};
  assert.deepEqual(await a.authenticate(`Bearer ${token}`, conn), { subject: 'ci', models: '*' });
  assert.equal(a.cached(`Bearer ${token}`, conn)?.subject, 'ci');
  assert.equal(a.cached(`Bearer ${wrongKey}`, conn), undefined);
  await assert.rejects(a.authenticate(`Bearer ${wrongKey}`, conn), /signature is invalid/);
  await assert.rejects(a.authenticate(`Bearer ${token.slice(0, -2)}xx`, conn), /invalid token/);
  assert.equal(a.cached(`Bearer ${token}`, conn)?.subject, 'ci');

  // Over REST on one keep-alive connection: valid, tampered, missing, valid again; each judged on its own header.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const tampered = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  const sequence: [Record<string, string>, number][] = [[auth, 200], [{ Authorization: `Bearer ${tampered}` }, 401], [{}, 401], [auth, 200]];
  let reused = 0;
  for (const [headers, status] of sequence) {
    const r = await new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: serving.restPort, path: '/v1/models/m', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
    assert.equal(r.status, status, JSON.stringify(headers).slice(0, 40));
    if (r.reused) reused++;
  }
  assert.equal(reused, sequence.length - 1, 'all four requests went over one connection');

  await assert.rejects(Authenticator.create({ secretFile, algorithms: ['none'] }), /never accepted/);
  await assert.rejects(Authenticator.create({ secretFile, algorithms: ['RS256'] }), /does not fit a shared secret/);
});

test('key sets are refreshed: an https JWKS after its max age, a JWKS file when it changes; clock skew on exp', async (t) => {
  const pki = makePki();
  if (!pki) {
    t.skip(OPENSSL_MISSING);
    return;
  }
  const base = tmpBase();
  t.after(() => {
    rmSync(base, { recursive: true, force: true });
    pki.cleanup();
  });
  const k1 = await keyPair('RS256', 'k1');
  const k2 = await keyPair('ES256', 'k2');

  // The identity provider rotates from k1 to k2; tfsvc's copy is refreshed once it is older than its max age.
  let published = [k1.jwk];
  const idp = await identityProvider(pki, () => published);
  t.after(() => idp.close());
  const remote = await Authenticator.create({ jwks: idp.url, jwksCa: pki.read(pki.ca), jwksMaxAgeMs: 100, modelClaim: null });
  assert.equal((await remote.authenticate(`Bearer ${await sign(k1, { sub: 'a' })}`)).subject, 'a');
  assert.equal(idp.fetches(), 1, 'fetched once at startup, then served from the cache');
  published = [k2.jwk];
  await until(async () => {
    try {
      return (await remote.authenticate(`Bearer ${await sign(k2, { sub: 'b' })}`)).subject === 'b';
    } catch {
      return false;
    }
  }, () => undefined);
  assert.ok(idp.fetches() >= 2);
  await assert.rejects(remote.authenticate(`Bearer ${await sign(k1, { sub: 'c' })}`), /no key in the JWKS matches/, 'a key the provider dropped stops working');

  // A JWKS file: rewritten in place, the new key is taken (checked at most once a second); a broken rewrite is ignored.
  const file = path.join(base, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [k1.jwk] }));
  const local = await Authenticator.create({ jwks: file, modelClaim: null });
  assert.equal((await local.authenticate(`Bearer ${await sign(k1, { sub: 'd' })}`)).subject, 'd');
  writeFileSync(file, '{"keys": [');
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await local.authenticate(`Bearer ${await sign(k1, { sub: 'e' })}`)).subject, 'e', 'a half-written file keeps the last good keys');
  writeFileSync(file, JSON.stringify({ keys: [k2.jwk] }));
  await until(async () => {
    try {
      return (await local.authenticate(`Bearer ${await sign(k2, { sub: 'f' })}`)).subject === 'f';
    } catch {
      return false;
    }
  }, () => undefined);

  // Clock skew: a token that expired a few seconds ago passes within the tolerance (default 30 s), not without it.
  const justExpired = await sign(k2, { sub: 'g' }, { exp: Math.floor(Date.now() / 1000) - 5 });
  assert.equal((await local.authenticate(`Bearer ${justExpired}`)).subject, 'g');
  const strict = await Authenticator.create({ jwks: file, modelClaim: null, clockSkewSeconds: 0 });
  await assert.rejects(strict.authenticate(`Bearer ${justExpired}`), /expired/);
});

for (const impl of GRPC_IMPLS) test(`gRPC (${impl}): on one connection a token is refused once it expires, and a different token is verified on its own`, { timeout: 30_000 }, async (t) => {
  const base = tmpBase();
  writeVersion(path.join(base, 'm'), 1, { mul: 2 });
  writeVersion(path.join(base, 'other'), 1, { mul: 3 });
  const secret = 'a-shared-secret-of-at-least-32-bytes!!';
  const secretFile = path.join(base, 'secret');
  writeFileSync(secretFile, secret);
  const serving = await startServing(baseOptions(base, { auth: { secretFile, modelClaim: null, clockSkewSeconds: 0 } }, { grpcPort: 0, grpcImpl: impl }));
  const Prediction = grpc.makeGenericClientConstructor(servingServiceDefinitions().prediction, 'PredictionService');
  const client = new Prediction(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type
  t.after(async () => {
    client.close();
    await serving.close(0);
    rmSync(base, { recursive: true, force: true });
  });
  const key = new TextEncoder().encode(secret);
  const predict = (token: string) =>
    new Promise<grpc.ServiceError | null>((resolve) => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token}`);
      client.Predict({ modelSpec: { name: 'm' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, floatVal: [1] } } }, md, (err: grpc.ServiceError | null) => resolve(err));
    });
  // Expires at the next whole second plus one (exp has a resolution of seconds); no clock skew tolerated.
  const exp = Math.floor(Date.now() / 1000) + 2;
  const shortLived = await new jose.SignJWT({ sub: 'short' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(key);
  const longLived = await new jose.SignJWT({ sub: 'long' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key);
  const forged = await new jose.SignJWT({ sub: 'long' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('y'.repeat(40)));
  assert.equal(await predict(shortLived), null);
  assert.equal(await predict(shortLived), null, 'the same token again on the same connection');
  const refused = await predict(forged);
  assert.equal(refused?.code, grpc.status.UNAUTHENTICATED);
  assert.match(refused!.details, /signature is invalid/);
  assert.equal(await predict(longLived), null, 'another valid token on the same connection');
  assert.equal(await predict(shortLived), null);
  await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 50));
  const expired = await predict(shortLived);
  assert.equal(expired?.code, grpc.status.UNAUTHENTICATED, 'refused after exp, on the connection that verified it');
  assert.match(expired!.details, /expired/);
  assert.equal(await predict(longLived), null);
});
