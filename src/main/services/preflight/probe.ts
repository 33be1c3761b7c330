import { X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net, { isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls, { type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { CheckProblem, CheckRow, ProblemKind, TlsFacts } from '#contract/preflight';
import { type HostMap, lookUpMapping } from './host-map.ts';
import { HttpHeadError, readHttpHead } from './http-head.ts';
import type { PreflightTarget } from '#contract/preflight';
import { type ProxyEndpoint, authority, connectRequest } from './proxy-tunnel.ts';
import { type TrustStore, commonName, oneLineName } from './trust.ts';

/** What every check of one run shares. */
export interface ProbeContext {
  hostMap: HostMap;
  proxy: ProxyEndpoint | null;
  trust: TrustStore;
  /** The whole check (DNS, connect, TLS or HTTP) must finish within this. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** A step stopped by the check's deadline or by the caller. */
class Interrupted extends Error {
  constructor(readonly why: 'timeout' | 'canceled') {
    super(why);
  }
}

/** A step that failed, carrying the row's problem. */
class StepFailure extends Error {
  constructor(readonly problem: CheckProblem) {
    super(problem.detail);
  }
}

function problem(kind: ProblemKind, step: CheckProblem['step'], detail: string, extra: { code?: string | undefined; status?: number | undefined } = {}): StepFailure {
  return new StepFailure({ kind, step, detail, code: extra.code ?? null, status: extra.status ?? null });
}

/** The time left for one check, shared by its steps, and the caller's cancel signal. */
class Budget {
  private readonly deadline: number;

  constructor(
    readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.deadline = performance.now() + timeoutMs;
  }

  /** Waits for `work` until the deadline or a cancel; then `abandon` tears its sockets down. */
  within<T>(work: Promise<T>, abandon: () => void): Promise<T> {
    const remaining = this.deadline - performance.now();
    if (this.signal?.aborted || remaining <= 0) {
      abandon();
      // the abandoned work settles too; its outcome no longer matters
      work.catch(() => undefined);
      return Promise.reject(new Interrupted(this.signal?.aborted ? 'canceled' : 'timeout'));
    }
    return new Promise<T>((resolve, reject) => {
      const stop = (why: 'timeout' | 'canceled'): void => {
        cleanup();
        abandon();
        reject(new Interrupted(why));
      };
      const timer = setTimeout(() => stop('timeout'), remaining);
      const onAbort = (): void => stop('canceled');
      const cleanup = (): void => {
        clearTimeout(timer);
        this.signal?.removeEventListener('abort', onAbort);
      };
      this.signal?.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
    });
  }
}

const ms = (since: number): number => Math.round((performance.now() - since) * 10) / 10;

const ERRNO_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'name not found',
  EAI_AGAIN: 'name lookup failed (temporary)',
  EPIPE: 'connection closed',
};
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL']);

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function words(err: unknown): string {
  const code = errnoOf(err);
  return (code && ERRNO_WORDS[code]) ?? (err instanceof Error ? err.message : String(err));
}

/** Settles when the socket connects, or fails with its error. */
function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      socket.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      socket.off('connect', onConnect);
      reject(err);
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}

/** Settles when the TLS handshake completes, or fails with its error or an early close. */
function secured(socket: TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onSecure = (): void => {
      done();
      resolve();
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => {
      done();
      reject(Object.assign(new Error('the server closed the connection during the TLS handshake'), { code: 'ECONNRESET' }));
    };
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

/**
 * One check of host:port, every failure a typed `problem` on the row: nothing throws past
 * it. Mapped names skip DNS; through a proxy the proxy resolves and connects, and the
 * problem names the hop (proxy or target) that failed.
 */
export async function probeTarget(target: PreflightTarget, ctx: ProbeContext): Promise<CheckRow> {
  const started = performance.now();
  const row: CheckRow = {
    host: target.host,
    port: target.port,
    protocol: target.protocol,
    need: target.need,
    fallbackPort: target.fallbackPort,
    startedAt: new Date().toISOString(),
    ms: 0,
    dns: null,
    proxy: null,
    tcp: null,
    tls: null,
    http: null,
    problem: null,
  };
  const budget = new Budget(ctx.timeoutMs, ctx.signal);
  const sockets: Socket[] = [];
  try {
    if (ctx.signal?.aborted) throw new Interrupted('canceled');
    const destination = await resolveDestination(row, target, ctx, budget);
    const socket = ctx.proxy
      ? await openTunnel(row, destination, ctx.proxy, ctx, budget, sockets)
      : await openDirect(row, destination, budget, sockets);
    if (target.protocol === 'tls') await handshake(row, target, socket, ctx.trust, budget, sockets);
    else if (target.protocol === 'http') await requestHttp(row, target, socket, budget);
  } catch (err) {
    row.problem = asProblem(err);
  } finally {
    // outermost first: tearing a socket down under a live TLS wrap crashes Node 20's TLS glue
    for (const socket of sockets.reverse()) socket.destroy();
    row.ms = ms(started);
  }
  return row;
}

function asProblem(err: unknown): CheckProblem {
  if (err instanceof StepFailure) return err.problem;
  if (err instanceof Interrupted && err.why === 'canceled') return { kind: 'canceled', step: 'run', detail: 'the run was canceled before this check finished', code: null, status: null };
  // every step wraps its own failures; anything else is a fault of the probe itself
  return { kind: 'tcp-failed', step: 'run', detail: `the check failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`, code: errnoOf(err) ?? null, status: null };
}

/** Cancels pass through a step's classification unchanged. */
function rethrowCancel(err: unknown): void {
  if (err instanceof Interrupted && err.why === 'canceled') throw err;
}

async function resolveDestination(row: CheckRow, target: PreflightTarget, ctx: ProbeContext, budget: Budget): Promise<{ address: string; port: number }> {
  const mapped = lookUpMapping(ctx.hostMap, target.host, target.port);
  if (mapped) {
    row.dns = { kind: 'mapped', address: mapped.address, port: mapped.port };
    return mapped;
  }
  if (isIP(target.host)) {
    row.dns = { kind: 'literal' };
    return { address: target.host, port: target.port };
  }
  if (ctx.proxy) {
    row.dns = { kind: 'via-proxy' };
    return { address: target.host, port: target.port };
  }
  const started = performance.now();
  try {
    const addresses = await budget.within(lookup(target.host, { all: true }), () => undefined);
    const first = addresses[0];
    if (!first) throw Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' });
    row.dns = { kind: 'resolved', addresses: addresses.map((a) => a.address), ms: ms(started) };
    return { address: first.address, port: target.port };
  } catch (err) {
    rethrowCancel(err);
    row.dns = { kind: 'failed', ms: ms(started) };
    if (err instanceof Interrupted) throw problem('dns-timeout', 'dns', `no DNS answer for ${target.host} within ${budget.timeoutMs} ms`);
    throw problem('dns-failed', 'dns', `${target.host} does not resolve: ${words(err)}`, { code: errnoOf(err) });
  }
}

async function openDirect(row: CheckRow, destination: { address: string; port: number }, budget: Budget, sockets: Socket[]): Promise<Socket> {
  const started = performance.now();
  const socket = net.connect({ host: destination.address, port: destination.port });
  sockets.push(socket);
  const where = authority(destination.address, destination.port);
  try {
    await budget.within(connected(socket), () => socket.destroy());
  } catch (err) {
    rethrowCancel(err);
    if (err instanceof Interrupted) throw problem('tcp-timeout', 'tcp', `no answer to the TCP connect to ${where} within ${budget.timeoutMs} ms`, { code: 'ETIMEDOUT' });
    const code = errnoOf(err);
    const kind: ProblemKind = code === 'ECONNREFUSED' ? 'tcp-refused' : code === 'ETIMEDOUT' ? 'tcp-timeout' : code && UNREACHABLE.has(code) ? 'tcp-unreachable' : 'tcp-failed';
    throw problem(kind, 'tcp', `TCP connect to ${where}: ${words(err)}`, { code });
  }
  row.tcp = { address: destination.address, port: destination.port, ms: ms(started) };
  return socket;
}

async function openTunnel(
  row: CheckRow,
  destination: { address: string; port: number },
  proxy: ProxyEndpoint,
  ctx: ProbeContext,
  budget: Budget,
  sockets: Socket[],
): Promise<Socket> {
  const started = performance.now();
  const connectTarget = authority(destination.address, destination.port);
  row.proxy = { url: proxy.displayUrl, connectTarget, connectMs: null, status: null, ms: null };
  const proxyAt = lookUpMapping(ctx.hostMap, proxy.host, proxy.port) ?? { address: proxy.host, port: proxy.port };
  const socket = net.connect({ host: proxyAt.address, port: proxyAt.port });
  sockets.push(socket);
  try {
    await budget.within(connected(socket), () => socket.destroy());
  } catch (err) {
    rethrowCancel(err);
    const why = err instanceof Interrupted ? `no answer within ${budget.timeoutMs} ms` : words(err);
    throw problem('proxy-unreachable', 'proxy', `cannot reach the proxy ${proxy.displayUrl}: ${why}`, { code: err instanceof Interrupted ? 'ETIMEDOUT' : errnoOf(err) });
  }
  row.proxy.connectMs = ms(started);
  socket.write(connectRequest(connectTarget, proxy.authorization));
  let status: number;
  let authenticate: string | undefined;
  try {
    const head = await budget.within(readHttpHead(socket), () => socket.destroy());
    status = head.status;
    authenticate = head.headers['proxy-authenticate'];
  } catch (err) {
    rethrowCancel(err);
    if (err instanceof Interrupted) throw problem('proxy-timeout', 'proxy', `the proxy did not answer CONNECT ${connectTarget} within ${budget.timeoutMs} ms (it may still be trying to reach it)`);
    if (err instanceof HttpHeadError && err.reason === 'not-http') throw problem('proxy-refused', 'proxy', `the proxy answered CONNECT ${connectTarget} with something that is not HTTP: ${err.message}`);
    throw problem('proxy-closed', 'proxy', `the proxy closed the connection without answering CONNECT ${connectTarget} (${words(err)})`, { code: errnoOf(err) });
  }
  row.proxy.status = status;
  row.proxy.ms = ms(started);
  if (status === 407) {
    const realm = authenticate ? ` (${authenticate})` : '';
    throw problem('proxy-auth-required', 'proxy', `the proxy wants credentials for CONNECT ${connectTarget}: 407${realm}`, { status });
  }
  if (status >= 500) throw problem('proxy-target-failed', 'proxy', `the proxy could not reach ${connectTarget}: ${status}`, { status });
  if (status < 200 || status > 299) throw problem('proxy-refused', 'proxy', `the proxy refused CONNECT ${connectTarget}: ${status}`, { status });
  row.tcp = { address: null, port: destination.port, ms: ms(started) };
  return socket;
}

async function handshake(row: CheckRow, target: PreflightTarget, socket: Socket, trust: TrustStore, budget: Budget, sockets: Socket[]): Promise<void> {
  const started = performance.now();
  // verification is done below, against the run's trust store, so every fact is reported
  const secure = tls.connect({ socket, rejectUnauthorized: false, ...(isIP(target.host) ? {} : { servername: target.host }) });
  sockets.push(secure);
  try {
    await budget.within(secured(secure), () => secure.destroy());
  } catch (err) {
    rethrowCancel(err);
    if (err instanceof Interrupted) {
      throw problem('tls-timeout', 'tls', `the TCP connection opened but the TLS handshake got no answer within ${budget.timeoutMs} ms`, { code: 'ETIMEDOUT' });
    }
    throw problem('tls-failed', 'tls', `TLS handshake failed: ${words(err)}`, { code: errnoOf(err) });
  }
  const peer = secure.getPeerCertificate(true);
  if (!peer.raw) throw problem('tls-failed', 'tls', 'the server presented no certificate');
  const chain = presentedChain(peer);
  const leaf = chain[0] as X509Certificate;
  const { trusted, untrustedIssuer } = trust.evaluate(chain);
  const hostnameMatches = tls.checkServerIdentity(target.host, peer) === undefined;
  const cipher = secure.getCipher();
  const facts: TlsFacts = {
    ms: ms(started),
    protocol: secure.getProtocol(),
    cipher: cipher.standardName || cipher.name || null,
    chain: chain.map((cert) => ({
      subject: oneLineName(cert.subject),
      issuer: oneLineName(cert.issuer),
      validFrom: new Date(cert.validFrom).toISOString(),
      validTo: new Date(cert.validTo).toISOString(),
      fingerprint256: cert.fingerprint256,
    })),
    leafExpiresAt: new Date(leaf.validTo).toISOString(),
    leafNames: (leaf.subjectAltName ?? '').split(', ').filter(Boolean).map((name) => name.replace(/^(DNS|IP Address):/, '')),
    hostnameMatches,
    trusted,
    untrustedIssuer,
  };
  row.tls = facts;
  const now = Date.now();
  if (!trusted) throw problem('unexpected-issuer', 'tls', `the certificate chain does not lead to a trusted root; it ends at issuer "${untrustedIssuer ?? commonName(leaf.issuer)}"`);
  if (new Date(leaf.validTo).getTime() < now) throw problem('cert-expired', 'tls', `the certificate expired on ${facts.leafExpiresAt}`, { code: 'CERT_HAS_EXPIRED' });
  if (new Date(leaf.validFrom).getTime() > now) throw problem('cert-not-yet-valid', 'tls', `the certificate is not valid before ${new Date(leaf.validFrom).toISOString()}`, { code: 'CERT_NOT_YET_VALID' });
  if (!hostnameMatches) {
    throw problem('name-mismatch', 'tls', `the certificate names ${facts.leafNames.join(', ') || oneLineName(leaf.subject)}, not ${target.host}`, { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  }
}

/** The chain as the TLS stack reports it, leaf first, each certificate once. */
function presentedChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = peer;
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

async function requestHttp(row: CheckRow, target: PreflightTarget, socket: Socket, budget: Budget): Promise<void> {
  const started = performance.now();
  const host = target.port === 80 ? target.host : authority(target.host, target.port);
  socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: tether-preflight\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
  try {
    const head = await budget.within(readHttpHead(socket), () => socket.destroy());
    row.http = { status: head.status, server: head.headers.server ?? null, ms: ms(started) };
  } catch (err) {
    rethrowCancel(err);
    if (err instanceof Interrupted) throw problem('http-timeout', 'http', `the connection opened but no HTTP answer came within ${budget.timeoutMs} ms`, { code: 'ETIMEDOUT' });
    throw problem('http-failed', 'http', `no valid HTTP answer: ${err instanceof HttpHeadError ? err.message : words(err)}`, { code: errnoOf(err) });
  }
}
