import { randomBytes, type webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import {
  KEY_ALGORITHM,
  certificateFingerprint,
  generateKeys,
  importPrivateKey,
  privateKeyPem,
  x509,
} from '#node-lib/x509';

const DAY_MS = 24 * 3600 * 1000;

/** A certificate with the private key that signs under it, both as PEM. */
export interface CertifiedKey {
  certPem: string;
  keyPem: string;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return bytes.toString('hex');
}

/** A self-signed root that signs only certificates (pathLen 0). */
export async function createCertificateAuthority(commonName: string, validDays = 3650): Promise<CertifiedKey> {
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}, O=Tether`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + validDays * DAY_MS),
    signingAlgorithm: KEY_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** The server's TLS certificate for `localhost`, loopback addresses and configured names. */
export async function issueServerCertificate(
  ca: CertifiedKey,
  hostnames: readonly string[],
  validDays = 825,
): Promise<CertifiedKey> {
  const keys = await generateKeys();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  const now = Date.now();
  const dnsNames = [...new Set(['localhost', ...hostnames.filter((h) => !isIpAddress(h))])];
  const ipAddresses = [...new Set(['127.0.0.1', '::1', ...hostnames.filter(isIpAddress)])];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${dnsNames[0] ?? 'localhost'}, O=Tether`,
    issuer: caCert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + validDays * DAY_MS),
    signingAlgorithm: KEY_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** Names (DNS and IP) a certificate's subjectAltName covers. */
export function certificateNames(certPem: string): string[] {
  const cert = new x509.X509Certificate(certPem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.map((n) => n.value) : [];
}

/** Whether a certificate is still valid `marginDays` from now. */
export function certificateValidFor(certPem: string, marginDays: number): boolean {
  const cert = new x509.X509Certificate(certPem);
  return cert.notAfter.getTime() > Date.now() + marginDays * DAY_MS;
}

/**
 * Signs a device's CSR with the device CA. The CSR's own subject is ignored: the
 * certificate names the device id the server chose, so a device cannot claim another.
 */
export async function signDeviceCsr(
  deviceCa: CertifiedKey,
  csrPem: string,
  deviceId: string,
  validDays = 1825,
): Promise<{ certPem: string; fingerprint256: string }> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw new Error('CSR signature does not verify');
  const { caCert, caKey } = await loadedAuthority(deviceCa);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${deviceId}, O=Tether device`,
    issuer: caCert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + validDays * DAY_MS),
    signingAlgorithm: KEY_ALGORITHM,
    publicKey: await csr.publicKey.export(KEY_ALGORITHM, ['verify']),
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem'), fingerprint256: await certificateFingerprint(cert) };
}

/** A CA's parsed certificate and imported key, made once per CA (enrollment signs many). */
const authorities = new WeakMap<CertifiedKey, Promise<{ caCert: x509.X509Certificate; caKey: CryptoKey }>>();

function loadedAuthority(ca: CertifiedKey): Promise<{ caCert: x509.X509Certificate; caKey: CryptoKey }> {
  let loaded = authorities.get(ca);
  if (!loaded) {
    loaded = importPrivateKey(ca.keyPem).then((caKey) => ({ caCert: new x509.X509Certificate(ca.certPem), caKey }));
    authorities.set(ca, loaded);
  }
  return loaded;
}

function isIpAddress(value: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(value) || value.includes(':');
}
