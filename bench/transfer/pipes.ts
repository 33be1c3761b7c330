/**
 * The baselines of bench/transfer.ts, each in its own process as the Tether server is:
 *   origin FILE         a plain `node:https` server answering GET with FILE (a direct download)
 *   relay ORIGIN_PORT   a bare TLS-in/TLS-out pipe: every client connection is decrypted and
 *                       piped into a new TLS connection to the origin — the least any
 *                       encrypted relay must do, so the ceiling for one on this machine.
 * Prints one JSON line {"port", "caPem"} when listening; SIGTERM ends it.
 */
import { createReadStream, statSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createCertificateAuthority, issueServerCertificate } from '../../server/pki/certificates.ts';

const [mode, arg, originCaPem] = process.argv.slice(2);

async function certificate() {
  const ca = await createCertificateAuthority(`Tether bench ${mode} CA`);
  const cert = await issueServerCertificate(ca, ['localhost', '127.0.0.1']);
  return { key: cert.keyPem, cert: cert.certPem, caPem: ca.certPem };
}

function ready(port: number, caPem: string): void {
  process.stdout.write(`${JSON.stringify({ port, caPem })}\n`);
}

async function origin(file: string): Promise<void> {
  const { key, cert, caPem } = await certificate();
  const size = statSync(file).size;
  const server = https.createServer({ key, cert }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(res);
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port, caPem));
  process.once('SIGTERM', () => process.exit(0));
}

async function relay(originPort: number, caPem: string): Promise<void> {
  const { key, cert, caPem: ownCa } = await certificate();
  const server = tls.createServer({ key, cert }, (inbound) => {
    const outbound = tls.connect({ host: '127.0.0.1', port: originPort, ca: caPem, servername: 'localhost' });
    inbound.pipe(outbound).pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close);
    outbound.on('error', close);
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port, ownCa));
  process.once('SIGTERM', () => process.exit(0));
}

if (mode === 'origin' && arg) await origin(arg);
else if (mode === 'relay' && arg && originCaPem) await relay(Number(arg), Buffer.from(originCaPem, 'base64').toString('utf8'));
else {
  process.stderr.write('usage: pipes.ts origin FILE | relay ORIGIN_PORT ORIGIN_CA_PEM_BASE64\n');
  process.exit(2);
}
