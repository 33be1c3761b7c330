import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { createCertificateAuthority, issueServerCertificate } from '../../server/pki/certificates.ts';
import type { BurstCommand, ServerSetup } from './messages.ts';
import { benchNow } from './rpc.ts';
import { type ServerUnderTest, benchSerial } from './server-under-test.ts';

/** What the bare server hands a device: command ids and their creation times, nothing else. */
export interface BarePollAnswer {
  commands: { id: string; t0: number }[];
}

interface HeldPoll {
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

function answer(res: ServerResponse, commands: BarePollAnswer['commands']): void {
  if (res.writableEnded || res.destroyed) return;
  const body = JSON.stringify({ commands } satisfies BarePollAnswer);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/**
 * The baseline: the least a long-poll server in Node can do. Plain `node:https` with the
 * same kind of certificate as Tether's (ECDSA P-256 under its own CA, loopback names) but
 * no client certificate, no database and no auth. `POST /poll?device=<id>` is held in a
 * map and answered after the window, or at once when a command is pushed to that device;
 * a newer poll from the same device answers the older one empty.
 */
export async function startBareServer(setup: ServerSetup): Promise<ServerUnderTest> {
  const started = benchNow();
  const ca = await createCertificateAuthority('Tether bench bare CA');
  const tls = await issueServerCertificate(ca, ['localhost', '127.0.0.1']);
  const held = new Map<string, HeldPoll>();
  const handedOver = new Map<string, number>();
  // pushed while the device had no poll held (between two polls): answered by its next poll
  const waiting = new Map<string, BarePollAnswer['commands']>();

  const hold = (deviceId: string, res: ServerResponse) => {
    const queued = waiting.get(deviceId);
    if (queued) {
      waiting.delete(deviceId);
      answer(res, queued);
      for (const command of queued) handedOver.set(command.id, benchNow());
      return;
    }
    const previous = held.get(deviceId);
    if (previous) {
      clearTimeout(previous.timer);
      answer(previous.res, []);
    }
    const poll: HeldPoll = {
      res,
      timer: setTimeout(() => {
        if (held.get(deviceId) === poll) held.delete(deviceId);
        answer(res, []);
      }, setup.pollWindowMs),
    };
    held.set(deviceId, poll);
    res.on('close', () => {
      if (held.get(deviceId) !== poll) return;
      clearTimeout(poll.timer);
      held.delete(deviceId);
    });
  };

  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem, requestCert: false, minVersion: 'TLSv1.2' }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://bare.invalid');
    const deviceId = url.searchParams.get('device');
    if (req.method !== 'POST' || url.pathname !== '/poll' || !deviceId) {
      res.writeHead(404).end();
      return;
    }
    req.on('end', () => hold(deviceId, res));
    req.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const devices = Array.from({ length: setup.agents }, (_, i) => ({ deviceId: benchSerial(i), serial: benchSerial(i) }));

  return {
    ready: { url: `https://127.0.0.1:${port}`, caPem: ca.certPem, devices, setupMs: benchNow() - started },
    heldPolls: () => held.size,
    handedOverAt: (commandId) => handedOver.get(commandId),
    burst(deviceIds) {
      const commands: BurstCommand[] = [];
      for (const deviceId of deviceIds) {
        const commandId = randomUUID();
        const createdAt = benchNow();
        commands.push({ commandId, deviceId, createdAt });
        const poll = held.get(deviceId);
        if (poll) {
          clearTimeout(poll.timer);
          held.delete(deviceId);
          answer(poll.res, [{ id: commandId, t0: createdAt }]);
          handedOver.set(commandId, benchNow());
        } else {
          waiting.set(deviceId, [...(waiting.get(deviceId) ?? []), { id: commandId, t0: createdAt }]);
        }
      }
      return Promise.resolve({ commands, failed: 0 });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const poll of held.values()) clearTimeout(poll.timer);
        held.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
