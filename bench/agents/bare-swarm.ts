import { setMaxListeners } from 'node:events';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BarePollAnswer } from './bare-server.ts';
import type { AgentSetup, EnrollOutcome } from './messages.ts';
import type { ReceiptLog } from './receipt-log.ts';
import type { AgentSwarm, SwarmCounters } from './swarm.ts';

/**
 * The baseline's clients: per device one keep-alive connection (`maxSockets: 1`) that
 * polls the bare server in a loop and takes a receipt when an answer carries commands.
 */
export class BareSwarm implements AgentSwarm {
  private readonly abort = new AbortController();
  private readonly clients: https.Agent[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly tally: SwarmCounters = { pollAnswers: 0, connectionErrors: 0 };
  private readonly url: URL;

  constructor(
    private readonly setup: AgentSetup,
    private readonly receipts: ReceiptLog,
  ) {
    this.url = new URL(setup.serverUrl);
    // every request and back-off of every client listens on this one signal
    setMaxListeners(0, this.abort.signal);
  }

  enroll(): Promise<EnrollOutcome> {
    return Promise.resolve({ enrolled: this.setup.devices.length, failed: 0 });
  }

  start(): number {
    for (const slot of this.setup.devices) this.loops.push(this.pollLoop(slot.deviceId));
    return this.loops.length;
  }

  counters(): SwarmCounters {
    return { ...this.tally };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
    for (const client of this.clients) client.destroy();
  }

  private async pollLoop(deviceId: string): Promise<void> {
    const client = new https.Agent({ keepAlive: true, maxSockets: 1 });
    this.clients.push(client);
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        const answer = await this.poll(client, deviceId);
        this.tally.pollAnswers += 1;
        for (const command of answer.commands) this.receipts.record(command.id);
      } catch (err) {
        if (signal.aborted) break;
        this.tally.connectionErrors += 1;
        this.tally.lastConnectionError = (err as Error).message;
        await sleep(200 + Math.random() * 800, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private poll(client: https.Agent, deviceId: string): Promise<BarePollAnswer> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          hostname: this.url.hostname,
          port: this.url.port,
          path: `/poll?device=${encodeURIComponent(deviceId)}`,
          method: 'POST',
          agent: client,
          ca: this.setup.caPem,
          headers: { 'content-type': 'application/json', 'content-length': 2 },
          signal: this.abort.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as BarePollAnswer);
            } catch (err) {
              reject(err as Error);
            }
          });
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
  }
}
