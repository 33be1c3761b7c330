import { TetherError } from '#contract/errors';

/** TLS verification failures: the far end is not who the pinned CA says it should be. */
export const CERT_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  ECONNABORTED: 'timed out',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};

/**
 * Turns a socket-level failure into the error a person can act on: the certificate did
 * not match the pinned CA, or the server (or the proxy in front of it) could not be
 * reached — naming the hop. Shared by the agent and the console.
 */
export function describeConnectionError(err: Error & { code?: string }, target: { host: string; proxyHost?: string | undefined }): TetherError {
  const code = err.code ?? '';
  if (CERT_ERROR_CODES.has(code)) {
    return new TetherError('CERT_PIN_MISMATCH', `the server at ${target.host} did not present a certificate from the pinned CA (${code}); refusing to talk to it`, { tlsCode: code });
  }
  const what = NETWORK_WORDS[code] ?? (err.message || code || 'unknown error');
  const via = target.proxyHost ? ` via proxy ${target.proxyHost}` : '';
  return new TetherError('SERVER_UNREACHABLE', `cannot reach ${target.host}${via}: ${what}`, code ? { errno: code } : undefined);
}

/**
 * A proxy's refusal to CONNECT, by its status. `chosenBy` says where the proxy came from
 * when the user did not name it (a PAC script, the system); `advice` what to do about a 407.
 */
export function proxyRefusal(status: number, proxyHost: string, target: string, about: { chosenBy?: string | undefined; advice?: string | undefined } = {}): TetherError {
  const proxy = `the proxy ${proxyHost}${about.chosenBy ? ` (chosen by ${about.chosenBy})` : ''}`;
  return status === 407
    ? new TetherError('PROXY_AUTH_REQUIRED', `${proxy} requires (other) credentials (407)${about.advice ? ` — ${about.advice}` : ''}`, { proxy: proxyHost })
    : new TetherError('PROXY_REFUSED', `${proxy} refused to connect to ${target} (${status})`, { proxy: proxyHost });
}
