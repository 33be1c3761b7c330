import { z } from 'zod';

/**
 * Every error any Tether program reports, as one union. A code travels to the user
 * unchanged (`{ error: { code, message } }`) so the console can phrase it and tools can
 * branch on it without parsing messages.
 */
export const ERROR_CODES = [
  // request shape
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'RATE_LIMITED',
  'CONFLICT',
  // technician authentication and access
  'UNAUTHENTICATED',
  'TOKEN_EXPIRED',
  'TOKEN_INVALID',
  'INVALID_CREDENTIALS',
  'ACCOUNT_LOCKED',
  'ACCOUNT_DISABLED',
  'REFRESH_TOKEN_INVALID',
  'REFRESH_TOKEN_REUSED',
  'FORBIDDEN',
  // devices and agents
  'ENROLLMENT_CODE_INVALID',
  'DEVICE_AUTH_FAILED',
  'POLL_SUPERSEDED',
  'UNKNOWN_COMMAND',
  'COMMAND_NOT_CANCELABLE',
  'COMMAND_EXPIRED',
  'COMMAND_INTERRUPTED',
  'COMMAND_FAILED',
  // consent-gated service sessions
  'SESSION_REQUIRED',
  'SESSION_NOT_ACTIVE',
  'SESSION_BUSY',
  'SESSION_ENDED',
  'GRANT_INVALID',
  'CONSENT_DENIED',
  // file transfers
  'PATH_NOT_ALLOWED',
  'FILE_NOT_FOUND',
  'FILE_TOO_LARGE',
  'FILE_EXISTS',
  'CHECKSUM_MISMATCH',
  'TRANSFER_NOT_ACTIVE',
  'CHUNK_NOT_READY',
  'TRANSFER_EXPIRED',
  // tunnels
  'TUNNEL_TARGET_NOT_ALLOWED',
  'TUNNEL_TICKET_INVALID',
  'TUNNEL_NOT_OPEN',
  'TUNNEL_UNREACHABLE',
  // client side (agent, console): the far end could not be reached or trusted
  'SERVER_UNREACHABLE',
  'CERT_PIN_MISMATCH',
  'PROXY_REFUSED',
  'PROXY_AUTH_REQUIRED',
  'CONFIG_INVALID',
  // console (renderer ↔ main contract, sessions, simulator)
  'UNKNOWN_CHANNEL',
  'SENDER_REJECTED',
  'NOT_SIGNED_IN',
  'SIMULATOR_FAILED',
  'VAULT_UNAVAILABLE',
  // last resort: a server fault, never a client's
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export const ErrorCodeSchema = z.enum(ERROR_CODES);

/** The wire shape of every error answer. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: ErrorCodeSchema,
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** HTTP status for each code when it is answered by the server. */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  RATE_LIMITED: 429,
  CONFLICT: 409,
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_INVALID: 401,
  INVALID_CREDENTIALS: 401,
  ACCOUNT_LOCKED: 423,
  ACCOUNT_DISABLED: 403,
  REFRESH_TOKEN_INVALID: 401,
  REFRESH_TOKEN_REUSED: 401,
  FORBIDDEN: 403,
  ENROLLMENT_CODE_INVALID: 401,
  DEVICE_AUTH_FAILED: 401,
  POLL_SUPERSEDED: 409,
  UNKNOWN_COMMAND: 400,
  COMMAND_NOT_CANCELABLE: 409,
  COMMAND_EXPIRED: 410,
  COMMAND_INTERRUPTED: 500,
  COMMAND_FAILED: 500,
  SESSION_REQUIRED: 403,
  SESSION_NOT_ACTIVE: 409,
  SESSION_BUSY: 409,
  SESSION_ENDED: 409,
  GRANT_INVALID: 403,
  CONSENT_DENIED: 403,
  PATH_NOT_ALLOWED: 403,
  FILE_NOT_FOUND: 404,
  FILE_TOO_LARGE: 413,
  FILE_EXISTS: 409,
  CHECKSUM_MISMATCH: 422,
  TRANSFER_NOT_ACTIVE: 409,
  CHUNK_NOT_READY: 409,
  TRANSFER_EXPIRED: 410,
  TUNNEL_TARGET_NOT_ALLOWED: 403,
  TUNNEL_TICKET_INVALID: 401,
  TUNNEL_NOT_OPEN: 409,
  TUNNEL_UNREACHABLE: 502,
  SERVER_UNREACHABLE: 503,
  CERT_PIN_MISMATCH: 495,
  PROXY_REFUSED: 502,
  PROXY_AUTH_REQUIRED: 407,
  CONFIG_INVALID: 400,
  UNKNOWN_CHANNEL: 400,
  SENDER_REJECTED: 403,
  NOT_SIGNED_IN: 401,
  SIMULATOR_FAILED: 500,
  VAULT_UNAVAILABLE: 500,
  INTERNAL: 500,
};

/** An error as a value: thrown inside a program, answered as `ErrorBody` at its edge. */
export class TetherError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TetherError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** Reads an `ErrorBody` out of anything a peer sent, or undefined when it is not one. */
export function parseErrorBody(value: unknown): ErrorBody | undefined {
  const parsed = ErrorBodySchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
