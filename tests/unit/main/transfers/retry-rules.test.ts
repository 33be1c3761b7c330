import { describe, expect, it } from 'vitest';
import { TetherError } from '#contract/errors';
import { asTetherError, failureClass, retryDelay } from '../../../../src/main/services/transfers/retry-rules.ts';

const policy = { baseMs: 1000, maxMs: 30_000, maxAttempts: 10 };
const highest = () => 0.999_999;

describe('what follows a failed transfer run', () => {
  it('retries a network failure or a busy server by itself, waiting longer each time up to the ceiling', () => {
    for (const code of ['SERVER_UNREACHABLE', 'PROXY_REFUSED', 'RATE_LIMITED', 'INTERNAL', 'CHUNK_NOT_READY', 'CONFLICT', 'TOKEN_EXPIRED'] as const) {
      expect(failureClass(code), code).toBe('transient');
    }
    const waits = [0, 1, 2, 3, 4, 5, 6].map((failures) => retryDelay('transient', failures, policy, highest));
    expect(waits.slice(0, 5)).toEqual([999, 1999, 3999, 7999, 15_999]);
    expect(waits.slice(5)).toEqual([29_999, 29_999]);
  });

  it('never retries sooner than a quarter second, whatever the jitter drew', () => {
    expect(retryDelay('transient', 0, policy, () => 0)).toBe(250);
  });

  it('fails the transfer once the failures in a row reach the limit', () => {
    expect(retryDelay('transient', 9, policy, highest)).not.toBeNull();
    expect(retryDelay('transient', 10, policy, highest)).toBeNull();
  });

  it('looks at the server first when its side changed, then retries like a network failure', () => {
    for (const code of ['TRANSFER_NOT_ACTIVE', 'SESSION_ENDED', 'SESSION_NOT_ACTIVE', 'TRANSFER_EXPIRED'] as const) {
      expect(failureClass(code), code).toBe('server-changed');
    }
    expect(retryDelay('server-changed', 0, policy, highest)).toBe(999);
  });

  it('stops quietly when the console is signed out, to go on at the next sign-in', () => {
    for (const code of ['NOT_SIGNED_IN', 'TOKEN_INVALID', 'REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'ACCOUNT_DISABLED'] as const) {
      expect(failureClass(code), code).toBe('signed-out');
    }
    expect(retryDelay('signed-out', 0, policy)).toBeNull();
  });

  it('fails at once what trying again cannot mend: the device refuses, the file changed, the path is not allowed', () => {
    for (const code of ['FILE_EXISTS', 'FILE_NOT_FOUND', 'CHECKSUM_MISMATCH', 'PATH_NOT_ALLOWED', 'FILE_TOO_LARGE', 'FORBIDDEN'] as const) {
      expect(failureClass(code), code).toBe('final');
      expect(retryDelay(failureClass(code), 0, policy), code).toBeNull();
    }
  });

  it('names a local file failure by what the engineer can do about it, keeping the system message', () => {
    const sys = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(asTetherError(sys('ENOSPC', 'no space left on device'))).toMatchObject({ code: 'FILE_TOO_LARGE', message: 'the disk of this computer is full' });
    expect(asTetherError(sys('ENOENT', "ENOENT: no such file, open '/x'"))).toMatchObject({ code: 'FILE_NOT_FOUND', message: "ENOENT: no such file, open '/x'" });
    expect(asTetherError(sys('EACCES', 'permission denied'))).toMatchObject({ code: 'FORBIDDEN', message: 'this console may not write there: permission denied' });
    expect(asTetherError(sys('EPERM', 'operation not permitted')).code).toBe('FORBIDDEN');
    expect(asTetherError(new Error('something odd'))).toMatchObject({ code: 'INTERNAL', message: 'something odd' });
    const own = new TetherError('CHECKSUM_MISMATCH', 'chunk 3 failed its check');
    expect(asTetherError(own)).toBe(own);
  });
});
