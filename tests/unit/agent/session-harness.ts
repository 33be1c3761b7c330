import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { afterEach, beforeAll } from 'vitest';
import { CommandJournal } from '../../../agent-sim/agent/command-journal.ts';
import { CommandExecutor } from '../../../agent-sim/agent/executor.ts';
import { GrantVerifier } from '../../../agent-sim/agent/grants.ts';
import { LocalAuditFile, type LocalAuditEntry } from '../../../agent-sim/agent/local-audit.ts';
import { ServiceSessions } from '../../../agent-sim/agent/sessions.ts';
import type { CommandDelivery, CommandUpdate, DeviceSession } from '#contract/protocol/poll';
import { GRANT_AUDIENCE, GRANT_ISSUER, GRANT_TYPE, type SessionScope } from '#contract/sessions';
import { waitFor } from '../../helpers/wait.ts';

export const DEVICE_ID = 'a1b2c3d4-0000-4000-8000-000000000001';
export const SESSION_ID = 'a1b2c3d4-0000-4000-8000-0000000000aa';

/** An Ed25519 key pair as the server's grant issuer has, and another as a forger would. */
export interface GrantKeys {
  server: CryptoKey;
  serverPublicPem: string;
  forger: CryptoKey;
}

export async function makeGrantKeys(): Promise<GrantKeys> {
  const server = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const forger = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { server: server.privateKey, serverPublicPem: await exportSPKI(server.publicKey), forger: forger.privateKey };
}

/** Signs a grant as the server does; every field can be overridden to make a bad one. */
export function signGrant(
  key: CryptoKey,
  grant: { sub?: string; sid?: string; scopes?: SessionScope[]; expiresInSeconds?: number; exp?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: grant.sid ?? SESSION_ID, scopes: grant.scopes ?? ['diagnose'] })
    .setProtectedHeader({ alg: 'EdDSA', typ: GRANT_TYPE })
    .setSubject(grant.sub ?? DEVICE_ID)
    .setIssuer(GRANT_ISSUER)
    .setAudience(GRANT_AUDIENCE)
    .setIssuedAt(now - 60)
    .setExpirationTime(grant.exp ?? now + (grant.expiresInSeconds ?? 1800))
    .sign(key);
}

/** A session as a held-poll answer lists it. */
export function deviceSession(grant: string, overrides: Partial<DeviceSession> = {}): DeviceSession {
  return {
    sessionId: SESSION_ID,
    grant,
    scopes: ['diagnose'],
    expiresAt: Date.now() + 1_800_000,
    controller: { username: 'jdoe', displayName: 'Jane Doe' },
    observers: [],
    reason: 'TICKET-4711 pressure alarms',
    ...overrides,
  };
}

/** A privileged command delivery with a session and grant. */
export function diagnostic(id: string, grant: string | undefined, overrides: Partial<CommandDelivery> = {}): CommandDelivery {
  return {
    id,
    name: 'self-test',
    params: {},
    sessionId: SESSION_ID,
    ...(grant ? { grant } : {}),
    ttlMs: 60_000,
    attempt: 1,
    ...overrides,
  };
}

/**
 * The agent's command and session core over real files in a temporary directory: the
 * journal, the local audit, the executor guarded by the session state, as Agent wires them.
 */
export interface SessionRig {
  dir: string;
  executor: CommandExecutor;
  sessions: ServiceSessions;
  updates: CommandUpdate[];
  changes: number;
  outgoingSignals: number;
  audit(): LocalAuditEntry[];
  statesOf(id: string): CommandUpdate['state'][];
  last(id: string): CommandUpdate | undefined;
  /** Stops (as the agent does) and opens the same directory again. */
  restart(): Promise<SessionRig>;
  /** Aborts what runs, waits for it to settle, closes the files. */
  close(): Promise<void>;
}

export function makeRig(publicKeyPem: string | undefined, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-sessions-'))): SessionRig {
  const journal = new CommandJournal(path.join(dir, 'commands.jsonl'));
  const audit = new LocalAuditFile(path.join(dir, 'audit.jsonl'));
  const updates: CommandUpdate[] = [];
  // the session state aborts commands through the executor, which is guarded by the session state
  const wired: { executor?: CommandExecutor } = {};
  let closed = false;
  const rig: SessionRig = {
    dir,
    executor: undefined as unknown as CommandExecutor,
    sessions: new ServiceSessions({
      verifier: new GrantVerifier(publicKeyPem, DEVICE_ID),
      audit,
      statePath: path.join(dir, 'sessions.json'),
      endCommands: (sessionId, message) => wired.executor?.endSession(sessionId, message) ?? 0,
      onChange: () => {
        rig.changes += 1;
      },
      onOutgoing: () => {
        rig.outgoingSignals += 1;
      },
    }),
    updates,
    changes: 0,
    outgoingSignals: 0,
    audit: () =>
      fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LocalAuditEntry),
    statesOf: (id) => updates.filter((u) => u.id === id).map((u) => u.state),
    last: (id) => updates.filter((u) => u.id === id).at(-1),
    restart: async () => {
      await rig.close();
      return makeRig(publicKeyPem, dir);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      rig.sessions.close();
      rig.executor.abortAll();
      await waitFor(() => rig.executor.activeCount === 0, { timeoutMs: 5000 });
      journal.close();
      audit.close();
    },
  };
  rig.executor = new CommandExecutor(journal, audit, (update) => updates.push(update), { guard: rig.sessions, outputIntervalMs: 20 });
  wired.executor = rig.executor;
  return rig;
}

/**
 * Registers the hooks of a test file that builds rigs: grant keys made once, every rig
 * closed and its directory removed after each test. `rig()` pins the server's key unless
 * told not to; `track()` adopts a rig made otherwise (a restart).
 */
export function rigsForEachTest(): { keys: () => GrantKeys; rig: (options?: { pinnedKey?: boolean }) => SessionRig; track: (rig: SessionRig) => SessionRig } {
  let keys: GrantKeys | undefined;
  const rigs: SessionRig[] = [];
  beforeAll(async () => {
    keys = await makeGrantKeys();
  });
  afterEach(async () => {
    for (const rig of rigs.splice(0)) {
      await rig.close();
      fs.rmSync(rig.dir, { recursive: true, force: true });
    }
  });
  const getKeys = (): GrantKeys => {
    if (!keys) throw new Error('grant keys are made in beforeAll');
    return keys;
  };
  const track = (rig: SessionRig): SessionRig => {
    rigs.push(rig);
    return rig;
  };
  return { keys: getKeys, track, rig: (options = {}) => track(makeRig(options.pinnedKey === false ? undefined : getKeys().serverPublicPem)) };
}
