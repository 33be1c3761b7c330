import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export { x509 };

/** ECDSA P-256 throughout: small keys, fast handshakes, supported by every TLS stack. */
export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error('no private key in PEM');
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign']);
}

/** SHA-256 fingerprint in Node's `fingerprint256` notation (AA:BB:...). */
export async function certificateFingerprint(certPem: string | x509.X509Certificate): Promise<string> {
  const cert = typeof certPem === 'string' ? new x509.X509Certificate(certPem) : certPem;
  const digest = new Uint8Array(await webcrypto.subtle.digest('SHA-256', cert.rawData));
  return [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** A fresh key pair and CSR, as an agent makes at enrollment: the key never leaves it. */
export async function createCsr(commonName: string): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await generateKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: KEY_ALGORITHM,
  });
  return { csrPem: csr.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}
