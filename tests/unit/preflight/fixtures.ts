import type { CheckProblem, CheckRow, ProblemKind, TlsFacts } from '#contract/preflight';
import { resolveTarget } from '../../../src/main/services/preflight/profiles.ts';

/** Rows as probes leave them, for the pure verdict and report logic. */

export function tlsFacts(overrides: Partial<TlsFacts> = {}): TlsFacts {
  return {
    ms: 3,
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    chain: [{ subject: 'CN=a', issuer: 'CN=Root', validFrom: '2025-01-01T00:00:00.000Z', validTo: '2027-01-01T00:00:00.000Z', fingerprint256: 'AA' }],
    leafExpiresAt: '2027-01-01T00:00:00.000Z',
    leafNames: ['a'],
    hostnameMatches: true,
    trusted: true,
    untrustedIssuer: null,
    ...overrides,
  };
}

/** A row as a probe would leave it: ok, or failed with `kind`. */
export function row(host: string, port: number, kind?: ProblemKind, extra: Omit<Partial<CheckRow>, 'problem'> & { problem?: Partial<CheckProblem> } = {}): CheckRow {
  const target = resolveTarget({ host, port });
  const { problem, ...rest } = extra;
  return {
    ...target,
    startedAt: '2026-03-01T12:00:00.000Z',
    ms: 5,
    dns: { kind: 'mapped', address: '127.0.0.1', port },
    proxy: null,
    tcp: kind?.startsWith('tcp') || kind?.startsWith('proxy') ? null : { address: '127.0.0.1', port, ms: 1 },
    tls: target.protocol === 'tls' && !kind ? tlsFacts() : null,
    http: target.protocol === 'http' && !kind ? { status: 200, server: 'x', ms: 1 } : null,
    problem: kind ? { kind, step: 'tcp', detail: 'detail', code: null, status: null, ...problem } : null,
    ...rest,
  };
}
