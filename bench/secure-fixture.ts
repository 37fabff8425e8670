// The secured endpoint the serving benchmarks measure (bench/serve-secure.ts, and bench/serve.ts's "secure" row), made
// in one place so both measure the same thing: a self-signed P-256 certificate for 127.0.0.1 (openssl), an RS256 key
// pair whose public half is a JWKS file (jose), one token signed with it (issuer "bench", audience "tfsvc", model "m"),
// and the `startServing` envelope options that serve HTTPS with that certificate and verify that token on every request.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as jose from 'jose';
import type { EnvelopeOptions } from '../src/core/serving/envelope.js';
import type { ClientSecurity } from '../src/core/load/security.js';

/** Files a secured server role needs (passed to its child process as --cert/--key/--jwks). */
export interface SecureFiles {
  cert: string;
  key: string;
  /** Absent: HTTPS only (the row that separates TLS's cost from JWT's). */
  jwks?: string;
}

export interface SecureFixture extends SecureFiles {
  jwks: string;
  /** The certificate, which clients trust as their CA. */
  ca: Buffer;
  /** `Authorization: Bearer <token>` for a token the server accepts. */
  auth: Record<string, string>;
  /** What tfsvc's load generator sends with (trust the certificate, send the token). */
  security: ClientSecurity;
  /** Removes the files. */
  close(): void;
}

/** Whether openssl is there to make the certificate (the benches skip their secured rows without it). */
export const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

export async function makeSecureFixture(): Promise<SecureFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-bench-secure-'));
  try {
    const cert = path.join(dir, 'server.pem');
    const key = path.join(dir, 'server.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
    const { publicKey, privateKey } = await jose.generateKeyPair('RS256');
    const jwks = path.join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }] }));
    const token = await new jose.SignJWT({ sub: 'bench', models: ['m'] }).setProtectedHeader({ alg: 'RS256', kid: 'bench' })
      .setIssuer('bench').setAudience('tfsvc').setExpirationTime('2h').sign(privateKey);
    const ca = readFileSync(cert);
    const auth = { authorization: `Bearer ${token}` };
    return { cert, key, jwks, ca, auth, security: { ca, headers: auth, grpcTls: false }, close: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The envelope a secured server role runs with: HTTPS, plus JWT verification when `files.jwks` is given. */
export function secureEnvelope(files: SecureFiles): EnvelopeOptions {
  return {
    restTls: { kind: 'pem', certFile: files.cert, keyFile: files.key, clientVerify: false },
    auth: files.jwks ? { jwks: files.jwks, issuer: 'bench', audience: ['tfsvc'] } : undefined,
  };
}

/** The child-process arguments that carry `files` (read back with `secureFilesFromArgs`). */
export function secureArgs(files: SecureFiles): string[] {
  return [`--cert=${files.cert}`, `--key=${files.key}`, ...(files.jwks ? [`--jwks=${files.jwks}`] : [])];
}

export function secureFilesFromArgs(arg: (name: string) => string | undefined): SecureFiles | undefined {
  const cert = arg('cert');
  return cert ? { cert, key: arg('key')!, jwks: arg('jwks') } : undefined;
}
