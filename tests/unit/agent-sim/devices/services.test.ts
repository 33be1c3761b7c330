import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulatedDevice, type SimulatedDevice } from '../../../../agent-sim/devices/index.ts';
import { runConsoleCommand } from '../../../../agent-sim/devices/services/console-commands.ts';
import { CONSOLE_MAX_LINE } from '../../../../agent-sim/devices/services/service-console.ts';

const devices: SimulatedDevice[] = [];

function device(modelId: 'stellant-flex' | 'radimetrics' = 'stellant-flex'): SimulatedDevice {
  const made = createSimulatedDevice({ serial: modelId === 'radimetrics' ? 'RAD-000001' : 'SFX-000001', modelId, now: () => Date.UTC(2025, 0, 6, 9) });
  made.tick();
  devices.push(made);
  return made;
}

afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.closeServices()));
});

/** A line-mode client of the service console: sends lines, reads until the prompt comes back. */
class ConsoleClient {
  private text = '';
  private readonly socket: net.Socket;
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => (this.text += chunk));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Everything up to and including the next prompt (or the end of the connection). */
  async untilPrompt(prompt: string): Promise<string> {
    for (;;) {
      const at = this.text.indexOf(prompt);
      if (at >= 0) {
        const out = this.text.slice(0, at + prompt.length);
        this.text = this.text.slice(at + prompt.length);
        return out;
      }
      const ended = await Promise.race([new Promise((r) => this.socket.once('data', () => r(false))), this.closed.then(() => true)]);
      if (ended) return this.text;
    }
  }

  send(line: string): void {
    this.socket.write(line);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('simulated service console commands', () => {
  it('answers status with the model, serial, software and state', () => {
    const d = device();
    const { lines, close } = runConsoleCommand('status', d);
    expect(close).toBe(false);
    expect(lines.join('\n')).toContain('MEDRAD Stellant FLEX');
    expect(lines.join('\n')).toContain('SFX-000001');
    expect(lines.find((l) => l.startsWith('state'))).toBe(`state     ${d.state()}`);
  });

  it('lists every data item of the model with its unit', () => {
    const { lines } = runConsoleCommand('items', device());
    expect(lines).toHaveLength(10);
    expect(lines.find((l) => l.startsWith('battery'))).toMatch(/^battery\s+[\d.]+ %$/);
  });

  it('shows the last n events and refuses a count out of range', () => {
    const d = device();
    d.injectFault('low-battery');
    d.clearFault('low-battery');
    expect(runConsoleCommand('log 1', d).lines).toEqual([expect.stringMatching(/info\s+fault\.cleared\s+Battery failure cleared$/)]);
    expect(runConsoleCommand('log', d).lines).toHaveLength(2);
    expect(runConsoleCommand('log 0', d).lines[0]).toMatch(/from 1 to 100/);
    expect(runConsoleCommand('log many', d).lines[0]).toMatch(/from 1 to 100/);
  });

  it('lists raised alarms, says so when there are none, and closes on exit', () => {
    const d = device('radimetrics');
    expect(runConsoleCommand('alarms', d).lines).toEqual(['no alarms raised']);
    d.injectFault('service-down');
    for (let i = 0; i < 5; i++) d.tick();
    expect(runConsoleCommand('alarms', d).lines.join('\n')).toContain('SERVICE_DOWN');
    expect(runConsoleCommand('exit', d)).toEqual({ lines: ['bye'], close: true });
  });

  it('names an unknown command and points to help', () => {
    expect(runConsoleCommand('reboot now', device()).lines[0]).toBe('unknown command "reboot"; type "help" for the list');
    expect(runConsoleCommand('help', device()).lines.some((l) => l.startsWith('log [n]'))).toBe(true);
  });
});

describe('simulated service ports', () => {
  it('serves the service page and its live status on loopback, started on first use', async () => {
    const d = device();
    const endpoint = await d.serviceEndpoint('service-web');
    expect(endpoint?.host).toBe('127.0.0.1');
    expect(await d.serviceEndpoint('service-web')).toEqual(endpoint);
    const base = `http://127.0.0.1:${endpoint?.port}`;
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('SFX-000001');
    expect(html).toContain('/status.json');
    const status = (await (await fetch(`${base}/status.json`)).json()) as { serial: string; state: string; items: unknown[] };
    expect(status).toMatchObject({ serial: 'SFX-000001', state: d.state() });
    expect(status.items).toHaveLength(10);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('runs the line-based console over TCP, CRLF or LF, and hangs up on exit', async () => {
    const d = device();
    const endpoint = await d.serviceEndpoint('service-console');
    const client = new ConsoleClient(endpoint?.port ?? 0);
    expect(await client.untilPrompt('SFX-000001> ')).toContain('Type "help" for commands.');
    client.send('status\r\n');
    expect(await client.untilPrompt('SFX-000001> ')).toContain(`state     ${d.state()}`);
    client.send('x'.repeat(CONSOLE_MAX_LINE + 10));
    expect(await client.untilPrompt('SFX-000001> ')).toContain('line too long');
    client.send('\nitems\nexit\n');
    await client.untilPrompt('SFX-000001> ');
    expect(await client.untilPrompt('SFX-000001> ')).toContain('battery');
    expect(await client.untilPrompt('SFX-000001> ')).toContain('bye');
    await client.closed;
  });

  it('has no endpoint for a target the simulator does not run or the model does not allow', async () => {
    expect(await device('radimetrics').serviceEndpoint('vnc')).toBeUndefined();
    expect(await device().serviceEndpoint('vnc')).toBeUndefined();
  });

  it('closes the services and their connections with the device', async () => {
    const d = device();
    const endpoint = await d.serviceEndpoint('service-console');
    const client = new ConsoleClient(endpoint?.port ?? 0);
    await client.untilPrompt('SFX-000001> ');
    d.stop();
    await client.closed;
    await d.closeServices();
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(endpoint?.port ?? 0, '127.0.0.1');
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    client.destroy();
  });
});
