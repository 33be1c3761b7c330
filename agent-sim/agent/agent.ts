import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { backoffDelay } from '#contract/backoff';
import { TetherError } from '#contract/errors';
import { createCsr } from '#node-lib/x509';
import type { AgentInfo } from '#contract/protocol/enroll';
import {
  POLL_LIMITS,
  type CommandUpdate,
  type ConsentDecision,
  type ConsentRequest,
  type DeviceSession,
  type PollRequest,
  type PollResponse,
  type SessionRevocation,
} from '#contract/protocol/poll';
import { AGENT_VERSION, type AgentConfig } from './config.ts';
import { type AgentCredentials, loadCredentials, saveCredentials } from './credentials.ts';
import { AgentTransport } from './transport.ts';
import { OutboundQueue, type TelemetryReport } from './outbound-queue.ts';
import { LocalAuditFile } from './local-audit.ts';
import { CommandJournal } from './command-journal.ts';
import { CommandExecutor } from './executor.ts';
import type { DeviceAdapter, DeviceSignal } from './device.ts';
import { registerBuiltinHandlers, registerDiagnosticHandlers, registerFileHandlers } from './handlers.ts';
import { createDeviceFiles } from './files/device-files.ts';
import type { DeviceFiles } from './files/types.ts';
import { registerTransferHandlers } from './transfers/handlers.ts';
import { registerTunnelHandlers } from './tunnels/tunnel-handler.ts';
import { TransferClient } from './transfers/transfer-client.ts';
import { TransferStateStore } from './transfers/transfer-state.ts';
import { GrantVerifier } from './grants.ts';
import { PendingCommandUpdates } from './pending-updates.ts';
import { ServiceSessions, type SessionOutgoing } from './sessions.ts';

export type AgentState = 'stopped' | 'connecting' | 'connected' | 'backoff';

export interface AgentEvents {
  state: [AgentState];
  'connection-error': [TetherError];
  polled: [PollResponse];
  /** Pending consent requests or active sessions changed: the operator's view needs a refresh. */
  operator: [];
}

/** What one request carries, kept to be put back if it fails. */
interface Outgoing {
  body: PollRequest;
  batch: TelemetryReport[];
  dropped: number;
  updates: CommandUpdate[];
  sessions: SessionOutgoing;
}

/** How far back results are re-reported after a restart. */
const RE_REPORT_WINDOW_MS = 24 * 3600_000;

/**
 * The device agent core. It never listens: everything starts from an outbound request.
 * A long-poll carries telemetry and command progress up and brings commands down; a
 * short-lived second request sends urgent news (alarms, results) while a poll is held.
 * On any failure it backs off with full jitter and reconnects, resolving the server's
 * name afresh; while away, telemetry waits in a bounded queue.
 *
 * Privileged work needs a service session the customer granted: the agent verifies each
 * session's grant itself, and offers the operator at the device (a hospital biomed, say)
 * the consent requests to answer and the sessions to watch or revoke.
 */
export class Agent extends EventEmitter<AgentEvents> {
  readonly bootId = randomBytes(12).toString('hex');
  readonly audit: LocalAuditFile;
  /** The device's files, when its adapter offers a file system; every file command goes through it. */
  readonly files: DeviceFiles | undefined;
  private transfers: { settleLeftovers(): void } | undefined;
  /** Transfers left from an earlier run are looked at once, at the first connection. */
  private leftoversSettled = false;
  private readonly journal: CommandJournal;
  private readonly executor: CommandExecutor;
  private readonly sessions: ServiceSessions;
  private readonly queue: OutboundQueue;
  private readonly transport: AgentTransport;
  private readonly log: Logger;
  private readonly lastReported = new Map<string, { value: unknown; at: number }>();
  private readonly pendingUpdates = new PendingCommandUpdates();
  private currentState: AgentState = 'stopped';
  private abort = new AbortController();
  private pollInFlight = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushUrgent = false;
  private flushing = false;
  private fullReportTimer: NodeJS.Timeout | undefined;
  private unsubscribeDevice: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly startedAt = Date.now();

  constructor(
    readonly config: AgentConfig,
    readonly device: DeviceAdapter,
    readonly credentials: AgentCredentials,
    options: { logger?: Logger } = {},
  ) {
    super();
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    this.log = (options.logger ?? pino({ level: 'info' })).child({ serial: device.serial });
    this.audit = new LocalAuditFile(join(config.dataDir, 'audit.jsonl'));
    this.journal = new CommandJournal(join(config.dataDir, 'commands.jsonl'));
    this.queue = new OutboundQueue(config.outboundQueueLimit);
    this.transport = new AgentTransport({
      serverUrl: config.serverUrl,
      serverCaPem: config.serverCaPem,
      proxy: config.proxy,
      hostMap: config.hostMap,
      identity: credentials,
    });
    this.sessions = new ServiceSessions({
      verifier: new GrantVerifier(credentials.grantPublicKeyPem, credentials.deviceId),
      audit: this.audit,
      statePath: join(config.dataDir, 'sessions.json'),
      endCommands: (sessionId, message) => this.executor.endSession(sessionId, message),
      onChange: () => this.emit('operator'),
      onOutgoing: () => this.scheduleFlush(true),
    });
    this.executor = new CommandExecutor(this.journal, this.audit, (update, urgent) => this.queueUpdate(update, urgent), { guard: this.sessions });
    registerBuiltinHandlers(this.executor, this);
    registerDiagnosticHandlers(this.executor, device);
    registerTunnelHandlers(this.executor, { device, identity: credentials, serverCaPem: config.serverCaPem, serverUrl: config.serverUrl, route: this.transport.tunnelRoute(), audit: this.audit });
    this.files = device.filesDir ? createDeviceFiles({ filesDir: device.filesDir, modelId: device.modelId, audit: this.audit }) : undefined;
    if (this.files) {
      registerFileHandlers(this.executor, this.files);
      this.transfers = registerTransferHandlers(this.executor, {
        files: this.files,
        client: new TransferClient(this.transport, config.requestTimeoutMs),
        state: new TransferStateStore(join(config.dataDir, 'transfers')),
        audit: this.audit,
        stopping: () => this.abort.signal.aborted,
        warn: (message, err) => this.log.warn({ err: (err as Error).message }, message),
      });
    }
  }

  /**
   * Enrolls a device: makes a key pair here, sends only the CSR and the one-time code,
   * stores certificate, key and secret owner-only. Returns the stored credentials.
   */
  static async enroll(config: AgentConfig, device: DeviceAdapter, enrollmentCode: string): Promise<AgentCredentials> {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const { csrPem, keyPem } = await createCsr(device.serial);
    const transport = new AgentTransport({ serverUrl: config.serverUrl, serverCaPem: config.serverCaPem, proxy: config.proxy, hostMap: config.hostMap });
    const audit = new LocalAuditFile(join(config.dataDir, 'audit.jsonl'));
    try {
      const answer = await transport.api.call(
        'enroll',
        {},
        { enrollmentCode, csrPem, agent: { version: AGENT_VERSION, bootId: randomBytes(12).toString('hex') }, softwareVersion: device.softwareVersion },
        { channel: 'report', timeoutMs: config.requestTimeoutMs },
      );
      const credentials: AgentCredentials = {
        deviceId: answer.deviceId,
        serial: answer.serial,
        modelId: answer.modelId,
        certificatePem: answer.certificatePem,
        privateKeyPem: keyPem,
        deviceSecret: answer.deviceSecret,
        grantPublicKeyPem: answer.grantPublicKeyPem,
        serverUrl: config.serverUrl,
        enrolledAt: new Date().toISOString(),
      };
      saveCredentials(config.dataDir, credentials);
      audit.append('agent.enroll', 'ok', { deviceId: answer.deviceId, server: config.serverUrl, host: hostname() });
      return credentials;
    } catch (err) {
      audit.append('agent.enroll', 'failed', { server: config.serverUrl, error: (err as Error).message });
      throw err;
    } finally {
      transport.close();
      audit.close();
    }
  }

  /** Credentials from a previous enrollment in this data dir, if any. */
  static storedCredentials(dataDir: string): AgentCredentials | undefined {
    return loadCredentials(dataDir);
  }

  get state(): AgentState {
    return this.currentState;
  }

  /** Telemetry waiting to be sent, and dropped so far. */
  get outbound(): { queued: number; dropped: number } {
    return { queued: this.queue.size, dropped: this.queue.dropped };
  }

  get uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }

  /** Consent requests waiting for the operator at the device; `expiresInMs` counts down live. */
  pendingConsents(): ConsentRequest[] {
    return this.sessions.pendingConsents();
  }

  /**
   * The operator approves or denies a consent request. The decision is audited here and
   * sent at once (kept, across restarts too, until the server has it). Throws NOT_FOUND
   * when no such request waits, SESSION_NOT_ACTIVE when it timed out.
   */
  decideConsent(sessionId: string, approve: boolean, operator: string): ConsentDecision {
    return this.sessions.decideConsent(sessionId, approve, operator);
  }

  /** Who is connected now: each active session with its controller, observers, scopes and expiry. */
  activeSessions(): DeviceSession[] {
    return this.sessions.activeSessions();
  }

  /**
   * The operator ends a session at the device: its running commands are aborted, later
   * ones refused even if the server still sends them, and the server is told at once.
   */
  revokeSession(sessionId: string, operator: string): SessionRevocation {
    return this.sessions.revokeSession(sessionId, operator);
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.audit.append('agent.start', 'ok', { version: AGENT_VERSION, bootId: this.bootId, deviceId: this.credentials.deviceId });
    this.executor.recoverInterrupted();
    this.executor.reReportRecent(Date.now() - RE_REPORT_WINDOW_MS);
    this.unsubscribeDevice = this.device.subscribe((signal) => this.onDeviceSignal(signal));
    this.reportAll();
    this.fullReportTimer = setInterval(() => this.reportAll(), this.config.fullReportIntervalMs);
    this.fullReportTimer.unref();
    this.loop = this.pollLoop();
  }

  /**
   * Stops the agent. With `goodbye` the server is told, so the device shows offline rather
   * than missing; without it the agent simply vanishes, as a crash would.
   */
  async stop(options: { goodbye?: boolean } = {}): Promise<void> {
    if (!this.loop) return;
    this.unsubscribeDevice?.();
    if (this.fullReportTimer) clearInterval(this.fullReportTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.abort.abort();
    this.executor.abortAll();
    this.sessions.close();
    await this.loop.catch(() => undefined);
    this.loop = undefined;
    if (options.goodbye) {
      await this.transport
        .api.call('goodbye', {}, { reason: 'shutdown' }, { channel: 'report', timeoutMs: 3000 })
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not say goodbye'));
    }
    this.transport.close();
    this.audit.append('agent.stop', 'ok', { goodbye: Boolean(options.goodbye) });
    this.audit.close();
    this.journal.close();
    this.setState('stopped');
  }

  private agentInfo(): AgentInfo {
    return { version: AGENT_VERSION, bootId: this.bootId };
  }

  private setState(state: AgentState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private async pollLoop(): Promise<void> {
    let failures = 0;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const connected = failures === 0 && this.currentState === 'connected';
      this.setState(connected ? 'connected' : 'connecting');
      // Until the server has answered once, ask for an immediate answer (a report): the
      // agent then knows it is connected before it parks a poll for the whole window.
      const outgoing = this.takeOutgoing(connected ? undefined : 0);
      this.pollInFlight = true;
      let answer: PollResponse;
      try {
        answer = await this.transport.api.call('poll', {}, outgoing.body, {
          channel: 'poll',
          timeoutMs: 120_000 + this.config.requestTimeoutMs,
          signal,
        });
      } catch (err) {
        this.pollInFlight = false;
        this.restoreOutgoing(outgoing);
        if (signal.aborted) break;
        const error = err instanceof TetherError ? err : new TetherError('SERVER_UNREACHABLE', (err as Error).message);
        this.onRequestError(error);
        this.transport.reset();
        this.setState('backoff');
        const delay = backoffDelay(this.config.backoff, failures);
        failures += 1;
        this.log.warn({ code: error.code, retryInMs: delay }, error.message);
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        continue;
      }
      this.pollInFlight = false;
      this.sessions.settle(outgoing.sessions, true);
      failures = 0;
      this.setState('connected');
      if (!this.leftoversSettled) {
        this.leftoversSettled = true;
        this.transfers?.settleLeftovers();
      }
      // commands are accepted (journaled, reported) before the next poll is built
      const verifying = this.handleAnswer(answer, outgoing.body.waitMs === undefined);
      if (verifying) await verifying;
      this.scheduleFlushIfPending();
    }
  }

  /**
   * Acts on an answer. Only a held poll's answer carries the session state (a report's
   * answer has none, which must not read as "no sessions"). Basic commands are accepted
   * and reported running before this returns; when privileged ones are having their
   * grants verified, the returned promise settles once they are started or refused.
   */
  private handleAnswer(answer: PollResponse, held: boolean): Promise<void> | undefined {
    this.emit('polled', answer);
    const failed = (err: unknown) => this.log.error({ err: (err as Error).message }, 'could not act on the server\'s answer');
    // the state is there only on held-poll answers; absent never means "no sessions"
    if (held && answer.sessions) {
      void this.sessions.apply({ consents: answer.consents ?? [], sessions: answer.sessions, endedSessions: answer.endedSessions ?? [] }).catch(failed);
    }
    if (answer.cancels.length) this.executor.cancel(answer.cancels);
    return answer.commands.length ? this.executor.accept(answer.commands)?.catch(failed) : undefined;
  }

  private onRequestError(error: TetherError): void {
    this.emit('connection-error', error);
    if (error.code === 'DEVICE_AUTH_FAILED' || error.code === 'CERT_PIN_MISMATCH') {
      this.audit.append('agent.connection-refused', 'denied', { code: error.code, message: error.message });
    }
  }

  /** What the next request carries: queued telemetry, pending command updates, the operator's decisions. */
  private takeOutgoing(waitMs?: number): Outgoing {
    const { batch, dropped } = this.queue.take({ data: POLL_LIMITS.dataItems, event: POLL_LIMITS.events, alarm: POLL_LIMITS.alarms });
    const updates = this.pendingUpdates.take(POLL_LIMITS.commandUpdates);
    const sessions = this.sessions.takeOutgoing();
    const body: PollRequest = {
      agent: this.agentInfo(),
      softwareVersion: this.device.softwareVersion,
      dataItems: batch.flatMap((r) => (r.kind === 'data' ? [r.report] : [])),
      events: batch.flatMap((r) => (r.kind === 'event' ? [r.report] : [])),
      alarms: batch.flatMap((r) => (r.kind === 'alarm' ? [r.report] : [])),
      commandUpdates: updates,
      consentDecisions: sessions.consentDecisions,
      sessionRevocations: sessions.sessionRevocations,
      dropped,
      ...(waitMs !== undefined ? { waitMs } : {}),
    };
    return { body, batch, dropped, updates, sessions };
  }

  private restoreOutgoing(outgoing: Outgoing): void {
    this.queue.restore(outgoing.batch, outgoing.dropped);
    this.pendingUpdates.restore(outgoing.updates);
    this.sessions.settle(outgoing.sessions, false);
  }

  private queueUpdate(update: CommandUpdate, urgent: boolean): void {
    this.pendingUpdates.put(update);
    this.scheduleFlush(urgent);
  }

  /** Whether command updates or the operator's decisions wait (both go up urgently). */
  private get urgentPending(): boolean {
    return this.pendingUpdates.size > 0 || this.sessions.hasOutgoing;
  }

  private onDeviceSignal(signal: DeviceSignal): void {
    switch (signal.kind) {
      case 'data': {
        const last = this.lastReported.get(signal.key);
        const band = this.device.deadband(signal.key);
        const changed = !last
          || (typeof signal.value === 'number' && typeof last.value === 'number'
            ? Math.abs(signal.value - last.value) >= band && signal.value !== last.value
            : signal.value !== last.value);
        if (!changed && !signal.written && last && signal.at - last.at < this.config.fullReportIntervalMs) return;
        this.lastReported.set(signal.key, { value: signal.value, at: signal.at });
        this.queue.push({ kind: 'data', report: { key: signal.key, value: signal.value, at: signal.at } });
        this.scheduleFlush(signal.written === true);
        return;
      }
      case 'event':
        this.queue.push({ kind: 'event', report: signal.report });
        this.scheduleFlush(signal.report.severity !== 'info');
        return;
      case 'alarm':
        this.queue.push({ kind: 'alarm', report: signal.report });
        this.scheduleFlush(true);
        return;
    }
  }

  /** Re-reports every data item (the periodic full report). */
  private reportAll(): void {
    const now = Date.now();
    for (const [key, value] of Object.entries(this.device.read())) {
      this.lastReported.set(key, { value, at: now });
      this.queue.push({ kind: 'data', report: { key, value, at: now } });
    }
    this.scheduleFlush(false);
  }

  private scheduleFlushIfPending(): void {
    if (this.urgentPending || this.queue.size) this.scheduleFlush(this.urgentPending);
  }

  /**
   * Sends what is pending while the poll is held: urgent news after a few milliseconds
   * (to batch a burst), routine data at most every `dataFlushMs`. Nothing is sent while
   * disconnected; the next poll carries it.
   */
  private scheduleFlush(urgent: boolean): void {
    if (this.abort.signal.aborted) return;
    const delay = urgent ? 5 : this.config.dataFlushMs;
    if (this.flushTimer && (!urgent || this.flushUrgent)) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushUrgent = urgent;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushUrgent = false;
      void this.flush();
    }, delay);
  }

  private async flush(): Promise<void> {
    if (this.flushing || !this.pollInFlight || this.currentState !== 'connected') return;
    if (!this.urgentPending && !this.queue.size) return;
    this.flushing = true;
    const outgoing = this.takeOutgoing(0);
    try {
      const answer = await this.transport.api.call('poll', {}, outgoing.body, {
        channel: 'report',
        timeoutMs: this.config.requestTimeoutMs,
        signal: this.abort.signal,
      });
      this.sessions.settle(outgoing.sessions, true);
      await this.handleAnswer(answer, false);
    } catch (err) {
      this.restoreOutgoing(outgoing);
      if (!this.abort.signal.aborted) this.log.debug({ err: (err as Error).message }, 'report failed; the next poll carries it');
    } finally {
      this.flushing = false;
    }
    if (this.urgentPending || this.queue.size) this.scheduleFlush(this.urgentPending);
  }
}
