import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import https from 'node:https';
import { type SecureContext, createSecureContext } from 'node:tls';
import { isIP } from 'node:net';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { z } from 'zod';
import { TetherError, parseErrorBody } from '../../src/shared/errors.ts';
import { describeConnectionError, proxyRefusal } from '../../src/shared/node/connection-errors.ts';
import { DEVICE_SECRET_HEADER } from '../../src/shared/protocol/enroll.ts';
import { type ProxySettings, bypassesProxy } from './config.ts';

/** The device's TLS identity and secret, present once enrolled. */
export interface DeviceIdentity {
  certificatePem: string;
  privateKeyPem: string;
  deviceSecret: string;
}

export interface TransportOptions {
  serverUrl: string;
  serverCaPem: string;
  proxy?: ProxySettings | undefined;
  hostMap?: Record<string, string> | undefined;
  identity?: DeviceIdentity | undefined;
}

/**
 * The held poll, a short-lived one for urgent reports, and — only while a file transfer
 * runs — connections that stream its chunks.
 */
export type Channel = 'poll' | 'report' | 'transfer';


type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A resolver that consults the host map first (so tests and pre-flight can send real
 * host names to loopback) and the system resolver otherwise. Called for every new
 * connection, so a server that moved is found again on reconnect.
 */
export function mappedLookup(hostMap: Record<string, string>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const mapped = hostMap[hostname.toLowerCase()];
    if (!mapped) {
      dnsLookup(hostname, options, callback as never);
      return;
    }
    const family = isIP(mapped) || 4;
    if (options.all) callback(null, [{ address: mapped, family }]);
    else callback(null, mapped, family);
  };
}

/**
 * HTTPS to the server with the pinned CA, the device certificate (mTLS) and secret,
 * through a proxy when configured. Every failure becomes a TetherError whose code says
 * which hop failed: SERVER_UNREACHABLE, CERT_PIN_MISMATCH, PROXY_REFUSED,
 * PROXY_AUTH_REQUIRED, or the server's own error code.
 */
export class AgentTransport {
  private readonly agents = new Map<Channel, https.Agent>();
  private readonly url: URL;
  private readonly lookup: ReturnType<typeof mappedLookup>;

  /** One TLS context (pinned CA, device certificate) for every connection this transport makes. */
  private readonly secureContext: SecureContext;

  constructor(private readonly options: TransportOptions) {
    this.url = new URL(options.serverUrl);
    this.secureContext = createSecureContext({
      ca: options.serverCaPem,
      ...(options.identity ? { cert: options.identity.certificatePem, key: options.identity.privateKeyPem } : {}),
    });
    this.lookup = mappedLookup(Object.fromEntries(Object.entries(options.hostMap ?? {}).map(([k, v]) => [k.toLowerCase(), v])));
  }

  get usesProxy(): boolean {
    return Boolean(this.options.proxy) && !bypassesProxy(this.url.hostname, this.options.proxy?.noProxy);
  }

  async post<S extends z.ZodType>(
    path: string,
    body: unknown,
    schema: S,
    opts: { channel: Channel; timeoutMs: number; signal?: AbortSignal },
  ): Promise<z.output<S>> {
    const payload = Buffer.from(JSON.stringify(body));
    const { status, text, proxyStatus } = await this.send(path, payload, opts);
    if (proxyStatus !== undefined && proxyStatus !== 200) throw proxyRefusal(proxyStatus, this.proxyHost(), this.url.host);
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = undefined;
    }
    if (status >= 400) {
      const error = parseErrorBody(json);
      if (error) throw new TetherError(error.error.code, error.error.message, error.error.details);
      throw new TetherError('SERVER_UNREACHABLE', `unexpected HTTP ${status} from ${this.url.host}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new TetherError('VALIDATION_FAILED', `the server's answer to ${path} does not match the protocol`);
    return parsed.data;
  }

  /**
   * Options for a request on the `transfer` channel, made by the caller itself (chunk
   * downloads, tus uploads): the same pinned CA, device certificate and secret, proxy and
   * host map as every other request. `path` and `method` are the caller's.
   */
  transferRequestOptions(): https.RequestOptions & { secureContext: SecureContext } {
    return {
      protocol: 'https:',
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || 443,
      agent: this.agentFor('transfer'),
      secureContext: this.secureContext,
      lookup: this.lookup as never,
      headers: this.options.identity ? { [DEVICE_SECRET_HEADER]: this.options.identity.deviceSecret } : {},
    };
  }

  /** The server's base URL, e.g. for upload URLs. */
  get serverUrl(): string {
    return this.url.origin;
  }

  /** A failure of a request made with `transferRequestOptions`, as the TetherError every other request gives. */
  describeError(err: Error & { code?: string }): TetherError {
    return this.describe(err);
  }

  /** Drops open connections; the next request connects (and resolves the name) afresh. */
  reset(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  close(): void {
    this.reset();
  }

  private agentFor(channel: Channel): https.Agent {
    let agent = this.agents.get(channel);
    if (agent) return agent;
    const common = {
      keepAlive: true,
      // two transfers may run at once on a device, each with one request at a time
      maxSockets: channel === 'transfer' ? 2 : 1,
      // the report and transfer channels close when idle; the poll channel is always busy
      timeout: channel === 'poll' ? 0 : 10_000,
    };
    if (this.usesProxy && this.options.proxy) {
      const proxyUrl = new URL(this.options.proxy.url);
      if (this.options.proxy.username) proxyUrl.username = encodeURIComponent(this.options.proxy.username);
      if (this.options.proxy.password) proxyUrl.password = encodeURIComponent(this.options.proxy.password);
      agent = new HttpsProxyAgent(proxyUrl, { ...common, lookup: this.lookup } as ConstructorParameters<typeof HttpsProxyAgent>[1]) as unknown as https.Agent;
    } else {
      agent = new https.Agent(common);
    }
    this.agents.set(channel, agent);
    return agent;
  }

  private proxyHost(): string {
    return this.options.proxy ? new URL(this.options.proxy.url).host : '(none)';
  }

  private send(
    path: string,
    payload: Buffer,
    opts: { channel: Channel; timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ status: number; text: string; proxyStatus?: number }> {
    const identity = this.options.identity;
    return new Promise((resolve, reject) => {
      let proxyStatus: number | undefined;
      // secureContext is handed on to tls.connect (the RequestOptions type does not list it)
      const requestOptions: https.RequestOptions & { secureContext: SecureContext } = {
        protocol: 'https:',
        hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port || 443,
        path,
        method: 'POST',
        agent: this.agentFor(opts.channel),
        secureContext: this.secureContext,
        lookup: this.lookup as never,
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          ...(identity ? { [DEVICE_SECRET_HEADER]: identity.deviceSecret } : {}),
        },
        ...(opts.signal ? { signal: opts.signal } : {}),
      };
      const req = https.request(
        requestOptions,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ...(proxyStatus !== undefined ? { proxyStatus } : {}) }));
          res.on('error', (err) => reject(this.describe(err)));
        },
      );
      req.on('proxyConnect', (connect: { statusCode: number }) => {
        proxyStatus = connect.statusCode;
      });
      req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(this.describe(err)));
      req.end(payload);
    });
  }

  private describe(err: Error & { code?: string }): TetherError {
    if (err.name === 'AbortError' || err.code === 'ABORT_ERR') return new TetherError('SERVER_UNREACHABLE', 'request aborted');
    return describeConnectionError(err, { host: this.url.host, proxyHost: this.usesProxy ? this.proxyHost() : undefined });
  }

}
