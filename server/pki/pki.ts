import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '#node-lib/files';
import {
  type CertifiedKey,
  certificateNames,
  certificateValidFor,
  createCertificateAuthority,
  issueServerCertificate,
} from './certificates.ts';

/** The server's key material: its own CA and TLS certificate, and the CA that signs devices. */
export interface ServerPki {
  /** Root that agents and console profiles pin. */
  ca: CertifiedKey;
  server: CertifiedKey;
  /** Signs device certificates at enrollment; verifies them on every agent request. */
  deviceCa: CertifiedKey;
  /** Path of the CA certificate, for clients to pin. */
  caCertPath: string;
}

async function loadOrCreate(dir: string, name: string, create: () => Promise<CertifiedKey>): Promise<CertifiedKey> {
  const certPath = join(dir, `${name}.cert.pem`);
  const keyPath = join(dir, `${name}.key.pem`);
  const certPem = readFileIfExists(certPath);
  const keyPem = readFileIfExists(keyPath);
  if (certPem && keyPem) return { certPem, keyPem };
  const created = await create();
  writeFileAtomic(keyPath, created.keyPem, 0o600);
  writeFileAtomic(certPath, created.certPem, 0o644);
  return created;
}

/**
 * Loads the PKI from `<dataDir>/pki`, creating what is missing on first start. The server
 * certificate is re-issued when a configured host name is not covered or it expires
 * within 30 days; the CAs never change once made (clients pin them).
 */
export async function loadOrCreatePki(dataDir: string, hostnames: readonly string[]): Promise<ServerPki> {
  const dir = join(dataDir, 'pki');
  const ca = await loadOrCreate(dir, 'ca', () => createCertificateAuthority('Tether Server CA'));
  const deviceCa = await loadOrCreate(dir, 'device-ca', () => createCertificateAuthority('Tether Device CA'));
  let server = await loadOrCreate(dir, 'server', () => issueServerCertificate(ca, hostnames));
  const covered = new Set(certificateNames(server.certPem));
  const needed = ['localhost', '127.0.0.1', ...hostnames];
  if (!needed.every((h) => covered.has(h)) || !certificateValidFor(server.certPem, 30)) {
    server = await issueServerCertificate(ca, hostnames);
    writeFileAtomic(join(dir, 'server.key.pem'), server.keyPem, 0o600);
    writeFileAtomic(join(dir, 'server.cert.pem'), server.certPem, 0o644);
  }
  return { ca, server, deviceCa, caCertPath: join(dir, 'ca.cert.pem') };
}
