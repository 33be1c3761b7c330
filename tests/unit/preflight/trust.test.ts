import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrustStore, commonName, splitPemCertificates } from '../../../src/main/services/preflight/trust.ts';
import type { CertifiedKey } from '../../../server/pki/certificates.ts';
import { createCertificateAuthority, issueCertificate } from '../../helpers/tls-targets.ts';

const x = (pem: string) => new X509Certificate(pem);

describe('trust store: does a presented chain lead to a trusted root?', () => {
  let tetherCa: CertifiedKey;
  let proxyCa: CertifiedKey;
  let lookalikeCa: CertifiedKey;
  let leaf: CertifiedKey;
  let intercepted: CertifiedKey;
  let forged: CertifiedKey;

  beforeAll(async () => {
    tetherCa = await createCertificateAuthority('Tether Test Root');
    proxyCa = await createCertificateAuthority('Hospital Proxy CA');
    // same name as the trusted CA, different key: only the signature tells them apart
    lookalikeCa = await createCertificateAuthority('Tether Test Root');
    leaf = await issueCertificate(tetherCa, ['medrad.axeda.com']);
    intercepted = await issueCertificate(proxyCa, ['medrad.axeda.com']);
    forged = await issueCertificate(lookalikeCa, ['medrad.axeda.com']);
  });

  it('trusts a leaf signed by a CA the caller added', () => {
    const store = new TrustStore([tetherCa.certPem]);
    expect(store.evaluate([x(leaf.certPem)])).toEqual({ trusted: true, untrustedIssuer: null });
    expect(store.evaluate([x(leaf.certPem), x(tetherCa.certPem)])).toEqual({ trusted: true, untrustedIssuer: null });
  });

  it('names the issuer a re-signed chain ends at, whether or not the inspecting root is sent along', () => {
    const store = new TrustStore([tetherCa.certPem]);
    expect(store.evaluate([x(intercepted.certPem)])).toEqual({ trusted: false, untrustedIssuer: 'Hospital Proxy CA' });
    expect(store.evaluate([x(intercepted.certPem), x(proxyCa.certPem)])).toEqual({ trusted: false, untrustedIssuer: 'Hospital Proxy CA' });
  });

  it('does not trust a CA that only copies the trusted name', () => {
    expect(new TrustStore([tetherCa.certPem]).evaluate([x(forged.certPem)])).toEqual({ trusted: false, untrustedIssuer: 'Tether Test Root' });
  });

  it('with the system roots alone, a private CA is unexpected', () => {
    expect(new TrustStore().evaluate([x(leaf.certPem)]).trusted).toBe(false);
    expect(new TrustStore([], { systemRoots: false }).evaluate([x(leaf.certPem)]).trusted).toBe(false);
  });

  it('reads PEM bundles and refuses text without a certificate', () => {
    expect(splitPemCertificates(`${tetherCa.certPem}\n${proxyCa.certPem}`)).toHaveLength(2);
    expect(() => splitPemCertificates('not a certificate')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => splitPemCertificates('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(/cannot be read/);
  });

  it('shows a name by its common name', () => {
    expect(commonName('C=US\nO=Hospital\nCN=Hospital Proxy CA')).toBe('Hospital Proxy CA');
    expect(commonName('C=US\nO=Hospital')).toBe('C=US, O=Hospital');
  });
});
