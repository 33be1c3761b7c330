/**
 * `npm run bench:tunnel -- [--size-mib N] [--pings N] [--json]`: throughput and round-trip
 * latency to a device's service port through a Tether tunnel, against two baselines in the
 * same run, every party in its own process:
 *   (a) direct — a loopback TCP connection straight to the service;
 *   (b) pipe relay — TLS to a bare TLS-in/TLS-out pipe relay, TLS on to a terminator beside
 *       the service, TCP into it: the least any encrypted relay with a device end must do,
 *       so the ceiling for one on this machine;
 *   Tether — the real server (relay ports), a real agent dialing it, and in this process the
 *       console's part: dialTunnelLink, HTTP/2 on the link, a 127.0.0.1 port whose every
 *       connection is a CONNECT stream.
 * Throughput: one connection downloads N MiB from the service. Latency: 64-byte round trips
 * on one connection, p50/p99. Setup: from the open request to the first round trip through
 * the local port. Goals: Tether ≥ 0.7 × the pipe relay's throughput, ≤ 1 ms added p50.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import type { SessionView } from '#contract/api/sessions';
import type { OpenTunnelResponse } from '#contract/api/tunnels';
import { ApiClient } from '../tests/helpers/http.ts';
import { spawnTs, stopChild, waitForLine } from '../tests/helpers/processes.ts';
import { ServerProcess } from '../tests/helpers/server-process.ts';
import { connectTunnelClient, openConnectStream } from '../tests/helpers/tunnel-client.ts';
import { waitFor } from '../tests/helpers/wait.ts';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '256' }, pings: { type: 'string', default: '2000' }, json: { type: 'boolean', default: false } }, strict: true });
const SIZE_MIB = Number(values['size-mib']);
const PINGS = Number(values.pings);
if (!Number.isInteger(SIZE_MIB) || SIZE_MIB < 1 || SIZE_MIB > 16_384 || !Number.isInteger(PINGS) || PINGS < 10) {
  process.stderr.write('usage: npm run bench:tunnel -- [--size-mib 1..16384] [--pings ≥10] [--json]\n');
  process.exit(2);
}
const MiB = 1024 * 1024;
const log = (m: string) => process.stderr.write(`[bench:tunnel] ${m}\n`);

interface PathFigures {
  mbPerSec: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

type Connect = () => Promise<Duplex>;

async function child(script: string, args: string[]): Promise<{ child: ChildProcess; json: { port?: number; caPem?: string } }> {
  const proc = spawnTs(script, args, { env: { TETHER_LOG_LEVEL: 'warn' } });
  proc.stderr?.resume();
  const { json } = await waitForLine<{ port?: number; caPem?: string; ready?: boolean }>(proc, (_l, j) => j !== undefined, 60_000);
  return { child: proc, json: json! };
}

function header(size: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(size));
  return head;
}

/** One connection downloads `SIZE_MIB` from the service, timed from the request to the last byte. */
async function throughput(connect: Connect): Promise<{ mbPerSec: number; seconds: number }> {
  const started = performance.now();
  const socket = await connect();
  const size = SIZE_MIB * MiB;
  const received = await new Promise<number>((resolve, reject) => {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.once('end', () => resolve(bytes));
    socket.once('error', reject);
    socket.write(header(size));
  });
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  if (received !== size) throw new Error(`received ${received} bytes of ${size}`);
  return { mbPerSec: size / MiB / seconds, seconds };
}

/** `PINGS` round trips of 64 bytes on one echoing connection; p50 and p99 in ms. */
async function latency(connect: Connect): Promise<{ p50Ms: number; p99Ms: number }> {
  const socket = await connect();
  socket.write(header(0));
  const ping = Buffer.alloc(64, 1);
  const times: number[] = [];
  let pending = 0;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    pending -= chunk.length;
    if (pending <= 0) wake?.();
  });
  for (let i = 0; i < PINGS; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      wake = resolve;
      pending += ping.length;
      socket.write(ping);
    });
    times.push(performance.now() - t);
  }
  socket.destroy();
  times.sort((a, b) => a - b);
  return { p50Ms: times[Math.floor(times.length * 0.5)]!, p99Ms: times[Math.floor(times.length * 0.99)]! };
}

async function measure(name: string, connect: Connect): Promise<PathFigures> {
  log(`${name}: ${SIZE_MIB} MiB, ${PINGS} round trips…`);
  await (await connect()).destroy(); // warm: handshakes and code paths once
  const t = await throughput(connect);
  const l = await latency(connect);
  return { ...t, ...l };
}

const tcp = (port: number): Connect => () =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });

const tlsTo = (port: number, ca: string): Connect => () =>
  new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', reject);
  });

/** The console's local end: 127.0.0.1 port, each connection one CONNECT stream on the link. */
function localBridge(session: http2.ClientHttp2Session): Promise<{ port: number; close(): void }> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    openConnectStream(session).then(
      (stream) => {
        socket.pipe(stream).pipe(socket);
        stream.on('error', () => socket.destroy());
        stream.on('close', () => socket.destroy());
      },
      () => socket.destroy(),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, close: () => server.close() })));
}

/** A round trip through the local port, once the device has joined. */
async function firstRoundTrip(port: number): Promise<boolean> {
  const socket = await tcp(port)();
  return new Promise((resolve) => {
    socket.once('data', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('close', () => resolve(false));
    socket.on('error', () => undefined);
    socket.write(Buffer.concat([header(0), Buffer.from('x')]));
  });
}

async function measureTether(servicePort: number, dir: string): Promise<PathFigures & { setupMs: number }> {
  const server = await ServerProcess.start();
  let agent: ChildProcess | undefined;
  try {
    const admin = await server.admin();
    const customer = (await admin.post<{ id: string }>('/api/v1/customers', { name: 'Bench Clinic', region: 'us', country: 'US' })).body;
    const site = (await admin.post<{ id: string }>('/api/v1/sites', { customerId: customer.id, name: 'Bench Radiology', city: 'Pittsburgh', country: 'US', timezone: 'UTC' })).body;
    const enrolled = (await admin.post<{ deviceId: string; enrollmentCode: string }>('/api/v1/devices', { siteId: site.id, modelId: 'radimetrics', serial: 'RAD-TUNNEL001' })).body;
    await admin.put(`/api/v1/customers/${customer.id}/consent-policy`, { policies: { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' } });
    const password = 'bench-engineer-correct-horse';
    await admin.post('/api/v1/users', { username: 'bench-eng', displayName: 'Bench Engineer', role: 'engineer', password, customerIds: [customer.id] });
    const caPath = join(dir, 'server-ca.pem');
    writeFileSync(caPath, server.ca);
    agent = (await child('bench/tunnel/pipes.ts', ['agent', server.url, caPath, enrolled.enrollmentCode, 'RAD-TUNNEL001', String(servicePort), join(dir, 'agent')])).child;
    await waitFor(async () => (await admin.get<{ status: string }>(`/api/v1/devices/${enrolled.deviceId}`)).body.status === 'online', { timeoutMs: 60_000, what: 'the agent online' });
    const token = (await new ApiClient(server.url, server.ca).post<{ accessToken: string }>('/api/v1/auth/login', { username: 'bench-eng', password })).body.accessToken;
    const engineer = new ApiClient(server.url, server.ca, token);
    const session = (await engineer.post<SessionView>(`/api/v1/devices/${enrolled.deviceId}/sessions`, { scopes: ['tunnel'], reason: 'bench tunnel', durationMinutes: 120 })).body;
    await new Promise((r) => setTimeout(r, 1000)); // the agent back in its held poll

    log('Tether: open tunnel → usable local port…');
    const started = performance.now();
    const opened = (await engineer.post<OpenTunnelResponse>(`/api/v1/sessions/${session.id}/tunnels`, { targetId: 'service-web' })).body;
    const client = await connectTunnelClient({ tunnelId: opened.tunnel.id, link: opened.link, token, ca: server.ca });
    const bridge = await localBridge(client.session);
    await waitFor(() => firstRoundTrip(bridge.port), { timeoutMs: 30_000, intervalMs: 5, what: 'a first round trip through the tunnel' });
    const setupMs = performance.now() - started;
    try {
      return { ...(await measure('Tether tunnel', tcp(bridge.port))), setupMs };
    } finally {
      bridge.close();
      client.close();
    }
  } finally {
    if (agent) await stopChild(agent);
    await server.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-tunnel-'));
const children: ChildProcess[] = [];
try {
  const service = await child('bench/tunnel/pipes.ts', ['service']);
  children.push(service.child);
  const servicePort = service.json.port!;
  const direct = await measure('direct TCP', tcp(servicePort));
  const terminator = await child('bench/tunnel/pipes.ts', ['terminator', String(servicePort)]);
  children.push(terminator.child);
  const relay = await child('bench/transfer/pipes.ts', ['relay', String(terminator.json.port), Buffer.from(terminator.json.caPem!).toString('base64')]);
  children.push(relay.child);
  const pipe = await measure('bare TLS pipe relay', tlsTo(relay.json.port!, relay.json.caPem!));
  const tether = await measureTether(servicePort, dir);
  const result = {
    sizeMiB: SIZE_MIB,
    pings: PINGS,
    directMBps: direct.mbPerSec,
    pipeRelayMBps: pipe.mbPerSec,
    tetherMBps: tether.mbPerSec,
    tetherOverPipeRelay: tether.mbPerSec / pipe.mbPerSec,
    tetherOverDirect: tether.mbPerSec / direct.mbPerSec,
    p50Ms: { direct: direct.p50Ms, pipeRelay: pipe.p50Ms, tether: tether.p50Ms },
    p99Ms: { direct: direct.p99Ms, pipeRelay: pipe.p99Ms, tether: tether.p99Ms },
    addedP50Ms: { overDirect: tether.p50Ms - direct.p50Ms, overPipeRelay: tether.p50Ms - pipe.p50Ms },
    setupMs: tether.setupMs,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const f = (n: number, d = 1) => n.toFixed(d);
    const row = (name: string, p: PathFigures) => `  ${name.padEnd(22)} ${f(p.mbPerSec).padStart(8)} MB/s  (${f(p.seconds, 2)} s)   round trip p50 ${f(p.p50Ms, 3)} ms, p99 ${f(p.p99Ms, 3)} ms`;
    process.stdout.write(
      [
        `tunnel, ${SIZE_MIB} MiB download and ${PINGS} round trips of 64 bytes on loopback`,
        row('direct TCP', direct),
        row('bare TLS pipe relay', pipe),
        row('Tether tunnel', tether),
        `  Tether ÷ pipe relay    ${f(result.tetherOverPipeRelay, 2)}   (goal ≥ 0.70)`,
        `  Tether ÷ direct        ${f(result.tetherOverDirect, 2)}`,
        `  added p50              ${f(result.addedP50Ms.overDirect, 3)} ms over direct, ${f(result.addedP50Ms.overPipeRelay, 3)} ms over the pipe relay   (goal ≤ 1 ms)`,
        `  setup                  ${f(result.setupMs, 0)} ms from the open request to a round trip through the local port`,
        '',
      ].join('\n'),
    );
  }
} finally {
  for (const c of children.reverse()) await stopChild(c);
  rmSync(dir, { recursive: true, force: true });
}
