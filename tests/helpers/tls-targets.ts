import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { type CertifiedKey, createCertificateAuthority } from '../../server/pki/certificates.ts';
import { KEY_ALGORITHM, generateKeys, importPrivateKey, privateKeyPem, x509 } from '#node-lib/x509';

/**
 * Loopback stand-ins for the far ends a pre-flight meets: TLS servers with good,
 * expired, wrong-host or foreign-CA certificates, a listener that accepts but never
 * answers, and a plain HTTP server. Each is a real socket on 127.0.0.1.
 */

const DAY_MS = 24 * 3600 * 1000;

export { createCertificateAuthority };

/**
 * A server certificate for exactly `names` (no implicit localhost), valid from
 * `notBefore` to `notAfter` — so tests can make expired and wrong-host ones.
 */
export async function issueCertificate(
  ca: CertifiedKey,
  names: readonly string[],
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<CertifiedKey> {
  const keys = await generateKeys();
  const caCert = new x509.X509Certificate(ca.certPem);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: `CN=${names[0] ?? 'unnamed'}`,
    issuer: caCert.subject,
    notBefore: validity.notBefore ?? new Date(now - DAY_MS),
    notAfter: validity.notAfter ?? new Date(now + 365 * DAY_MS),
    signingAlgorithm: KEY_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: await importPrivateKey(ca.keyPem),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: net.isIP(value) ? ('ip' as const) : ('dns' as const), value }))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A listener on a loopback port; `close` also drops every connection it accepted. */
export interface LoopbackListener {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

async function listen(server: net.Server): Promise<LoopbackListener> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Completes TLS handshakes with `certificate` (and sends the chain in `chainPems` after it). */
export function startTlsListener(certificate: CertifiedKey, chainPems: readonly string[] = []): Promise<LoopbackListener> {
  const server = tls.createServer({ cert: [certificate.certPem, ...chainPems].join('\n'), key: certificate.keyPem });
  // probes hang up mid-handshake on purpose (cancel, timeout); that is not this server's failure
  server.on('tlsClientError', () => undefined);
  server.on('secureConnection', (socket: tls.TLSSocket) => socket.on('error', () => socket.destroy()));
  return listen(server);
}

/**
 * Accepts TCP connections and never says a word — a TLS handshake to it never
 * completes. This stands in for "timed out": a dropped SYN cannot be staged on loopback
 * without root.
 */
export function startSilentListener(): Promise<LoopbackListener> {
  return listen(net.createServer(() => undefined));
}

/** Answers every HTTP request with `status` and a `Server` header. */
export function startHttpListener(status = 200, serverHeader = 'test-http'): Promise<LoopbackListener> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { server: serverHeader, connection: 'close' });
    res.end('ok');
  });
  return listen(server);
}
