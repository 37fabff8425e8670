// Certificates for TLS tests, made with openssl at test time: a CA, a server certificate for 127.0.0.1/localhost, a
// client certificate, an expired server certificate, and a second CA nobody trusts. `makePki()` returns undefined
// when openssl is missing, so tests can skip visibly (t.skip with the reason).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Pki {
  dir: string;
  /** Paths of PEM files. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  expiredCert: string;
  expiredKey: string;
  /** A second server certificate for the same names (rotation tests). */
  server2Cert: string;
  server2Key: string;
  /** A CA that signed nothing the server trusts, and a client certificate from it. */
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
  read(file: string): Buffer;
  cleanup(): void;
}

export const OPENSSL_MISSING = 'openssl is not installed (apt-get install openssl): TLS tests skipped';

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

export function makePki(): Pki | undefined {
  if (!hasOpenssl()) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-pki-'));
  const p = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ca = (name: string) => ssl('req', '-x509', ...ecKey, '-keyout', p(`${name}.key`), '-out', p(`${name}.pem`), '-subj', `/CN=${name}`, '-days', '2');
  ca('ca');
  ca('otherca');
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const leaf = (name: string, caName: string, ext: string, days: string) => {
    ssl('req', ...ecKey, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`);
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.pem`), '-CAkey', p(`${caName}.key`), '-CAcreateserial', '-days', days, '-extfile', p(ext), '-out', p(`${name}.pem`));
  };
  leaf('server', 'ca', 'server.ext', '2');
  leaf('server2', 'ca', 'server.ext', '2');
  leaf('client', 'ca', 'client.ext', '2');
  leaf('expired', 'ca', 'server.ext', '-1');
  leaf('otherclient', 'otherca', 'client.ext', '2');
  return {
    dir,
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    expiredCert: p('expired.pem'),
    expiredKey: p('expired.key'),
    server2Cert: p('server2.pem'),
    server2Key: p('server2.key'),
    otherCa: p('otherca.pem'),
    otherClientCert: p('otherclient.pem'),
    otherClientKey: p('otherclient.key'),
    read: (file) => readFileSync(file),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A TF Serving SSLConfig text proto holding the PEM text of `key`, `cert` and optionally `ca`. */
export function sslConfigText(key: string, cert: string, ca?: string, clientVerify = false): string {
  const q = (file: string) => JSON.stringify(readFileSync(file, 'utf8'));
  return `server_key: ${q(key)}\nserver_cert: ${q(cert)}\n${ca ? `custom_ca: ${q(ca)}\n` : ''}client_verify: ${clientVerify}\n`;
}
