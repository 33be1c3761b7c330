import type { ErrorCode } from '#contract/errors';

/** What the renderer knows about a failure: a BridgeError, or anything else thrown. */
interface CodedError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown> | undefined;
}

function isCodedError(value: unknown): value is CodedError {
  return typeof value === 'object' && value !== null && typeof (value as CodedError).code === 'string' && typeof (value as CodedError).message === 'string';
}

/** Ends a fragment with a full stop unless it already has one. */
function withStop(text: string): string {
  const trimmed = text.trim();
  return !trimmed || /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** "sign in first" → "Sign in first." — server and main messages are lower-case fragments. */
function sentence(text: string): string {
  const stopped = withStop(text);
  return stopped ? stopped[0]!.toUpperCase() + stopped.slice(1) : '';
}

function retryAfterSeconds(details: Record<string, unknown> | undefined): number | undefined {
  const value = details?.retryAfterSeconds;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "the session ended (CUSTOMER_REVOKED): revoked at the device…" → "revoked at the device…". */
function endedBecause(message: string): string {
  return message.trim().replace(/^the session ended\s*(\([A-Z_]+\))?\s*[:—-]?\s*/i, '') || 'no reason was given';
}

/**
 * The message a field engineer reads for a failed call: phrased per error code (what
 * happened and what to do), falling back to the message main or the server gave.
 */
export function describeError(error: unknown): string {
  if (!isCodedError(error)) {
    return sentence(error instanceof Error ? error.message : String(error)) || 'Something went wrong.';
  }
  const { code, message, details } = error;
  switch (code) {
    case 'INVALID_CREDENTIALS':
      return 'Wrong username or password.';
    case 'ACCOUNT_LOCKED': {
      const seconds = retryAfterSeconds(details);
      if (seconds === undefined) return 'This account is locked after too many failed sign-ins. Try again later.';
      return `This account is locked after too many failed sign-ins. Try again in ${plural(Math.ceil(seconds / 60), 'minute')}.`;
    }
    case 'SERVER_UNREACHABLE': {
      // main says "cannot reach <host>: <why>"; do not say it twice
      const rest = message.trim().replace(/^cannot reach\s+/i, '');
      return rest !== message.trim() ? `Cannot reach the server ${withStop(rest)}` : `Cannot reach the server: ${withStop(message)}`;
    }
    case 'CERT_PIN_MISMATCH':
      return "The server's certificate does not match the one pinned for this profile — you may be behind a TLS-inspecting proxy or talking to the wrong server.";
    case 'PROXY_REFUSED':
    case 'PROXY_AUTH_REQUIRED':
      return `The proxy refused the connection: ${withStop(message)}`;
    case 'RATE_LIMITED': {
      const seconds = retryAfterSeconds(details);
      return `Too many requests. Try again in ${plural(Math.ceil(seconds ?? 60), 'second')}.`;
    }
    case 'SIMULATOR_FAILED':
      return `The simulator could not run: ${withStop(message)}`;
    case 'FORBIDDEN':
      return `You are not allowed to do that: ${withStop(message)}`;
    case 'NOT_SIGNED_IN':
      return 'You are signed out. Sign in again.';
    case 'SESSION_BUSY': {
      const holder = typeof details?.engineer === 'string' ? ` (${details.engineer})` : '';
      return `Another engineer${holder} is already in control of this device; only one at a time. Join their session as an observer, or request again after it ends.`;
    }
    case 'SESSION_REQUIRED':
      return `${sentence(message)} Request a service session with the scope it needs first.`;
    case 'SESSION_NOT_ACTIVE':
      return `This needs an active service session, and it is not active: ${withStop(message)}`;
    case 'SESSION_ENDED':
      return `The session ended — ${withStop(endedBecause(message))}`;
    case 'CONSENT_DENIED':
      return `The customer's consent was denied: ${withStop(message)}`;
    case 'PATH_NOT_ALLOWED':
      return `That place is off limits on this device: ${withStop(message)} File work is allowed only inside the device's service folders.`;
    case 'FILE_NOT_FOUND':
      return `The file is not there (any more): ${withStop(message)}`;
    case 'FILE_TOO_LARGE':
      return `The file is too large: ${withStop(message)}`;
    case 'FILE_EXISTS':
      return `A file of that name is already there: ${withStop(message)} Choose to replace it, or rename yours first.`;
    case 'CHECKSUM_MISMATCH':
      return `The file arrived damaged and was not kept: ${withStop(message)} Retry the transfer.`;
    case 'TRANSFER_NOT_ACTIVE':
      return `The transfer is not running: ${withStop(message)}`;
    case 'CHUNK_NOT_READY':
      return 'The device has not sent that part of the file yet; the console keeps asking.';
    case 'TRANSFER_EXPIRED':
      return `The transfer was kept as long as allowed and has expired: ${withStop(message)} Start it again.`;
    case 'TUNNEL_TARGET_NOT_ALLOWED':
      return `This device does not allow a tunnel there: ${withStop(message)} Only the service ports its model lists can be reached.`;
    case 'TUNNEL_TICKET_INVALID':
      return `The relay refused this console's ticket: ${withStop(message)} Close the tunnel and open it again.`;
    case 'TUNNEL_NOT_OPEN':
      return `The tunnel is not open (any more): ${withStop(message)}`;
    case 'TUNNEL_UNREACHABLE':
      return `The device could not connect to its service port — the service may not be running: ${withStop(message)}`;
    case 'GRANT_INVALID':
      return `The device refused the session's grant (it checks every grant itself): ${withStop(message)} End the session and request a new one.`;
    default:
      return sentence(message) || 'Something went wrong.';
  }
}

