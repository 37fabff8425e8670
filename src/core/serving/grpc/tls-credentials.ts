// gRPC server credentials from a TlsSource (src/core/serving/tls.ts). grpc-js's certificate-provider credentials take
// new material while the server runs, so a rotated certificate is used for new connections without a restart; the
// provider here is fed by the TlsSource, which only ever hands out checked key/certificate pairs.
import * as grpc from '@grpc/grpc-js';
import type { TlsMaterial, TlsSource } from '../tls.js';

type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdListener = grpc.experimental.IdentityCertificateUpdateListener;

// grpc-js 1.14's createCertificateProviderServerCredentials hands its (ca, identity) arguments to a constructor
// declared (identity, ca), and a null CA provider then breaks it. So one provider serves as both, and without a custom
// CA it publishes the server's own certificate as the CA: client certificates are then asked for but never required
// (rejectUnauthorized follows clientVerify, which needs a real custom_ca).
function caUpdate(m: TlsMaterial): grpc.experimental.CaCertificateUpdate {
  return { caCertificate: m.ca ?? m.cert };
}

class SourceProvider implements grpc.experimental.CertificateProvider {
  private readonly ca = new Set<CaListener>();
  private readonly id = new Set<IdListener>();

  constructor(private readonly source: TlsSource) {
    source.onChange((m) => this.publish(m));
  }

  private publish(m: TlsMaterial): void {
    for (const l of this.ca) l(caUpdate(m));
    for (const l of this.id) l({ certificate: m.cert, privateKey: m.key });
  }

  // The first update is sent a tick later: grpc-js registers its own watcher only after adding these listeners, and
  // an update delivered before that is lost (the server would then drop every connection as "unloaded credentials").
  addCaCertificateListener(l: CaListener): void {
    this.ca.add(l);
    queueMicrotask(() => this.ca.has(l) && l(caUpdate(this.source.current)));
  }
  removeCaCertificateListener(l: CaListener): void {
    this.ca.delete(l);
  }
  addIdentityCertificateListener(l: IdListener): void {
    this.id.add(l);
    queueMicrotask(() => {
      const m = this.source.current;
      if (this.id.has(l)) l({ certificate: m.cert, privateKey: m.key });
    });
  }
  removeIdentityCertificateListener(l: IdListener): void {
    this.id.delete(l);
  }
}

/** TLS credentials for grpc.Server.bindAsync; client certificates are required when the material says clientVerify. */
export function grpcServerCredentials(source: TlsSource): grpc.ServerCredentials {
  const provider = new SourceProvider(source);
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, source.current.clientVerify);
}
