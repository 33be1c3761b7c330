import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { TetherError } from '#contract/errors';

/**
 * The roots a device would trust: the system's (Node's bundled Mozilla store) plus CAs
 * the caller adds, such as a Tether server's pinned CA. A chain that does not lead to one
 * of them was re-signed on the way — the sign of TLS inspection.
 */
export class TrustStore {
  private readonly bySubject = new Map<string, X509Certificate[]>();
  private readonly fingerprints = new Set<string>();

  constructor(extraCaPems: readonly string[] = [], options: { systemRoots?: boolean } = {}) {
    const pems = [...(options.systemRoots === false ? [] : rootCertificates), ...extraCaPems.flatMap(splitPemCertificates)];
    for (const pem of pems) this.add(new X509Certificate(pem));
  }

  /**
   * Walks the chain as presented, leaf first: trusted as soon as a certificate is a trust
   * anchor or is signed by one. Otherwise reports the issuer the chain ends at.
   */
  evaluate(chain: readonly X509Certificate[]): { trusted: boolean; untrustedIssuer: string | null } {
    for (const [index, cert] of chain.entries()) {
      if (this.fingerprints.has(cert.fingerprint256)) return { trusted: true, untrustedIssuer: null };
      const anchors = this.bySubject.get(cert.issuer) ?? [];
      if (anchors.some((anchor) => cert.checkIssued(anchor) && cert.verify(anchor.publicKey))) return { trusted: true, untrustedIssuer: null };
      const next = chain[index + 1];
      if (!next || !cert.checkIssued(next) || !cert.verify(next.publicKey)) return { trusted: false, untrustedIssuer: commonName(cert.issuer) };
    }
    return { trusted: false, untrustedIssuer: null };
  }

  private add(cert: X509Certificate): void {
    this.fingerprints.add(cert.fingerprint256);
    const list = this.bySubject.get(cert.subject) ?? [];
    list.push(cert);
    this.bySubject.set(cert.subject, list);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle; a bundle without one, or with a broken one, is refused. */
export function splitPemCertificates(text: string): string[] {
  const pems = text.match(PEM_CERTIFICATE) ?? [];
  if (pems.length === 0) throw new TetherError('VALIDATION_FAILED', 'no PEM certificate (-----BEGIN CERTIFICATE-----) in the trusted CA text');
  for (const [index, pem] of pems.entries()) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new TetherError('VALIDATION_FAILED', `trusted CA certificate ${index + 1} cannot be read: ${(err as Error).message}`);
    }
  }
  return pems;
}

/** `CN=…` of a distinguished name as Node prints it (one attribute a line), else the whole name. */
export function commonName(name: string): string {
  const lines = name.split('\n');
  const cn = lines.find((line) => line.startsWith('CN='));
  return cn ? cn.slice(3) : lines.join(', ');
}

/** A distinguished name on one line, as a report shows it. */
export function oneLineName(name: string): string {
  return name.split('\n').join(', ');
}
