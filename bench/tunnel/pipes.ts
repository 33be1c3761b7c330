/**
 * The processes of bench/tunnel.ts besides the server, each on its own as in real life:
 *   service               the device's service port: a TCP server; a connection that starts
 *                         with an 8-byte size gets that many bytes back (a download), one
 *                         that starts with size 0 is echoed from then on (round trips)
 *   terminator PORT       TLS in, plain TCP out to PORT: the device end of the bare pipe relay
 *   agent URL CA_FILE CODE SERIAL SERVICE_PORT DIR
 *                         a real agent (enrolled with CODE) whose `service-web` target is the
 *                         service above
 * Prints one JSON line {"port", "caPem"} (the agent: {"ready": true}) when ready; SIGTERM ends it.
 */
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { pino } from 'pino';
import { Fleet } from '../../agent-sim/fleet.ts';
import { createCertificateAuthority, issueServerCertificate } from '../../server/pki/certificates.ts';

const [mode, ...args] = process.argv.slice(2);
const ready = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
process.once('SIGTERM', () => process.exit(0));

function service(): void {
  const block = randomFillSync(Buffer.allocUnsafe(256 * 1024));
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.once('readable', function header() {
      const head = socket.read(8) as Buffer | null;
      if (!head) return socket.once('readable', header);
      const size = Number(head.readBigUInt64BE());
      if (size === 0) {
        socket.pipe(socket);
        return;
      }
      let left = size;
      const pump = () => {
        while (left > 0) {
          const piece = block.subarray(0, Math.min(block.length, left));
          left -= piece.length;
          if (!socket.write(piece)) return socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
  });
  server.listen(0, '127.0.0.1', () => ready({ port: (server.address() as AddressInfo).port }));
}

async function terminator(port: number): Promise<void> {
  const ca = await createCertificateAuthority('Tether bench terminator CA');
  const cert = await issueServerCertificate(ca, ['localhost', '127.0.0.1']);
  const server = tls.createServer({ key: cert.keyPem, cert: cert.certPem }, (inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port, noDelay: true });
    inbound.setNoDelay(true);
    inbound.pipe(outbound).pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close);
    outbound.on('error', close);
  });
  server.listen(0, '127.0.0.1', () => ready({ port: (server.address() as AddressInfo).port, caPem: ca.certPem }));
}

async function agent(serverUrl: string, caFile: string, code: string, serial: string, servicePort: number, dir: string): Promise<void> {
  const fleet = new Fleet({ agent: { serverUrl, serverCaPem: readFileSync(caFile, 'utf8') }, dataDir: dir, log: pino({ level: 'warn' }), tickMs: 1000 });
  await fleet.add([{ serial, modelId: 'radimetrics', enrollmentCode: code }]);
  const device = fleet.get(serial).device;
  device.serviceEndpoint = (targetId: string) => Promise.resolve(targetId === 'service-web' ? { host: '127.0.0.1', port: servicePort } : undefined);
  fleet.startAll();
  ready({ ready: true });
}

if (mode === 'service') service();
else if (mode === 'terminator' && args[0]) await terminator(Number(args[0]));
else if (mode === 'agent' && args.length === 6) await agent(args[0]!, args[1]!, args[2]!, args[3]!, Number(args[4]), args[5]!);
else {
  process.stderr.write('usage: pipes.ts service | terminator PORT | agent URL CA_FILE CODE SERIAL SERVICE_PORT DIR\n');
  process.exit(2);
}
