// Server-side TLS material: where it comes from, how it is checked, and how it is swapped when its files change.
//   REST: --ssl_cert_file / --ssl_key_file (PEM files), optional --ssl_ca_file + --ssl_client_verify (mTLS), or the
//         same --ssl_config_file as gRPC.
//   gRPC: TF Serving's --ssl_config_file, a text-format tensorflow.serving.SSLConfig (ssl_config.proto:
//         server_key = 1, server_cert = 2, custom_ca = 3, client_verify = 4) whose fields hold the PEM text itself,
//         so existing TF Serving files work unchanged.
// Every load is checked by building a Node secure context (key matches certificate, PEM parses) and by the
// certificate's validity dates, so a bad pair is one clear startup line (exit 1) instead of failed handshakes later.
// A TlsSource re-reads its files when their mtime or size changes; a broken new pair is reported and the previous
// good one keeps serving (rotation without restart, never an outage from a half-copied file).
import { readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import type http from 'node:http';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import protobuf from 'protobufjs';
import { TfsvcError } from '../errors.js';
import { parseTextProto, TextFormatError } from '../proto/text-format.js';

/** PEM material for one server. `ca` set: client certificates are requested and checked against it. */
export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
  /** Refuse clients without a certificate signed by `ca` (mTLS). */
  clientVerify: boolean;
}

/** Where TLS material is read from. */
export type TlsFiles =
  | { kind: 'pem'; certFile: string; keyFile: string; caFile?: string; clientVerify: boolean }
  | { kind: 'ssl-config'; file: string };

/** A certificate or key problem: exit code 1 (like a broken model), one line naming the file and what is wrong. */
export class TlsConfigError extends TfsvcError {}

const SSL_CONFIG_PROTO = `syntax = "proto3"; package tensorflow.serving;
message SSLConfig { string server_key = 1; string server_cert = 2; string custom_ca = 3; bool client_verify = 4; }`;
let sslConfigType: protobuf.Type | undefined;

/** Parses a TF Serving SSLConfig text proto (the contents of --ssl_config_file). */
export function parseSslConfig(text: string, file = '<ssl config>'): TlsMaterial {
  sslConfigType ??= protobuf.parse(SSL_CONFIG_PROTO).root.lookupType('tensorflow.serving.SSLConfig');
  let p: { serverKey?: string; serverCert?: string; customCa?: string; clientVerify?: boolean };
  try {
    p = parseTextProto(text, sslConfigType);
  } catch (err) {
    if (err instanceof TextFormatError) throw new TlsConfigError(`${file}:${err.message} (expected a TF Serving SSLConfig in text format: server_key, server_cert, custom_ca, client_verify)`);
    throw err;
  }
  if (!p.serverKey || !p.serverCert) throw new TlsConfigError(`${file}: SSLConfig needs both server_key and server_cert (PEM text)`);
  if (p.clientVerify && !p.customCa) throw new TlsConfigError(`${file}: client_verify needs custom_ca (the CA that signs client certificates)`);
  return { key: Buffer.from(p.serverKey), cert: Buffer.from(p.serverCert), ca: p.customCa ? Buffer.from(p.customCa) : undefined, clientVerify: Boolean(p.clientVerify) };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsConfigError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Why Node refused a key/certificate pair, in the user's terms. */
function explain(err: Error): string {
  const m = err.message;
  if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(m)) return 'the private key does not match the certificate';
  if (/no start line|PEM|bad base64|ASN1|DECODER/i.test(m)) return `not a valid PEM file (${m})`;
  return m;
}

/** Throws TlsConfigError unless `m` is a usable key/certificate pair (and CA) valid now. `source` names the file(s). */
export function checkTlsMaterial(m: TlsMaterial, source: { cert: string; key: string; ca?: string }): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(m.cert);
  } catch (err) {
    throw new TlsConfigError(`${source.cert}: not a valid PEM certificate (${(err as Error).message})`);
  }
  const now = Date.now();
  if (Date.parse(x509.validTo) < now) throw new TlsConfigError(`${source.cert}: the certificate expired on ${new Date(x509.validTo).toISOString()}`);
  if (Date.parse(x509.validFrom) > now) throw new TlsConfigError(`${source.cert}: the certificate is not valid before ${new Date(x509.validFrom).toISOString()}`);
  if (m.ca) {
    try {
      new X509Certificate(m.ca);
    } catch (err) {
      throw new TlsConfigError(`${source.ca}: not a valid PEM CA certificate (${(err as Error).message})`);
    }
  }
  try {
    tls.createSecureContext({ key: m.key, cert: m.cert, ca: m.ca });
  } catch (err) {
    throw new TlsConfigError(`${source.key} / ${source.cert}: ${explain(err as Error)}`);
  }
}

/** Reads and checks the material `files` point at. */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  if (files.kind === 'ssl-config') {
    const text = readPem(files.file, 'SSL config file').toString('utf8');
    const m = parseSslConfig(text, files.file);
    checkTlsMaterial(m, { cert: `${files.file} server_cert`, key: `${files.file} server_key`, ca: `${files.file} custom_ca` });
    return m;
  }
  if (files.clientVerify && !files.caFile) throw new TlsConfigError('--ssl_client_verify needs --ssl_ca_file (the CA that signs client certificates)');
  const m: TlsMaterial = {
    cert: readPem(files.certFile, 'certificate file'),
    key: readPem(files.keyFile, 'private key file'),
    ca: files.caFile ? readPem(files.caFile, 'CA file') : undefined,
    clientVerify: files.clientVerify,
  };
  checkTlsMaterial(m, { cert: files.certFile, key: files.keyFile, ca: files.caFile });
  return m;
}

function fileList(files: TlsFiles): string[] {
  return files.kind === 'ssl-config' ? [files.file] : [files.certFile, files.keyFile, ...(files.caFile ? [files.caFile] : [])];
}

function stamp(paths: string[]): string {
  return paths
    .map((p) => {
      try {
        const s = statSync(p);
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

/**
 * The current TLS material of one server, re-read when its files change (polled every `pollMs`; a timer is cheaper
 * and more dependable than fs.watch across atomic renames and Kubernetes secret symlink swaps).
 */
export class TlsSource {
  private material: TlsMaterial;
  private lastStamp: string;
  private readonly listeners = new Set<(m: TlsMaterial) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: TlsFiles,
    private readonly events: { reloaded?: (files: string[]) => void; error?: (message: string) => void } = {},
    pollMs = 2000,
  ) {
    this.lastStamp = stamp(fileList(files));
    this.material = loadTlsMaterial(files);
    if (pollMs > 0) {
      this.timer = setInterval(() => this.check(), pollMs);
      this.timer.unref();
    }
  }

  get current(): TlsMaterial {
    return this.material;
  }

  /** Re-reads the files if they changed; keeps the previous material when the new one is broken. */
  check(): void {
    const s = stamp(fileList(this.files));
    if (s === this.lastStamp) return;
    this.lastStamp = s;
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.files);
    } catch (err) {
      this.events.error?.(`TLS files changed but cannot be used (still serving the previous certificate): ${(err as Error).message}`);
      return;
    }
    this.material = next;
    for (const l of this.listeners) l(next);
    this.events.reloaded?.(fileList(this.files));
  }

  onChange(listener: (m: TlsMaterial) => void): void {
    this.listeners.add(listener);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.listeners.clear();
  }
}

/** Node TLS server options for `m` (HTTPS for REST; the node:http2 gRPC server). */
export function tlsServerOptions(m: TlsMaterial): tls.SecureContextOptions & tls.TlsOptions {
  return { key: m.key, cert: m.cert, ca: m.ca, requestCert: m.ca !== undefined, rejectUnauthorized: m.clientVerify };
}

/** A factory for the REST server: HTTPS with `source`'s material, swapped in place when it reloads. */
export function httpsServerFactory(source: TlsSource): (options: http.ServerOptions, handler: http.RequestListener) => http.Server {
  return (options, handler) => {
    const server = https.createServer({ ...options, ...tlsServerOptions(source.current) }, handler);
    source.onChange((m) => server.setSecureContext(tlsServerOptions(m)));
    return server;
  };
}
