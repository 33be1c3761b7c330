import { describe, expect, it } from 'vitest';
import { describeError } from '../../../src/renderer/lib/error-messages.ts';

describe('describeError', () => {
  it('says "Wrong username or password." for rejected credentials, whatever the server wrote', () => {
    expect(describeError({ code: 'INVALID_CREDENTIALS', message: 'wrong username or password' })).toBe('Wrong username or password.');
  });

  it('tells a locked-out user how many whole minutes to wait, rounding up', () => {
    const locked = (retryAfterSeconds: number) => describeError({ code: 'ACCOUNT_LOCKED', message: 'locked', details: { retryAfterSeconds } });
    expect(locked(900)).toBe('This account is locked after too many failed sign-ins. Try again in 15 minutes.');
    expect(locked(61)).toBe('This account is locked after too many failed sign-ins. Try again in 2 minutes.');
    expect(locked(30)).toBe('This account is locked after too many failed sign-ins. Try again in 1 minute.');
  });

  it('still explains a lockout when the server gave no retry time', () => {
    expect(describeError({ code: 'ACCOUNT_LOCKED', message: 'locked' })).toMatch(/^This account is locked after too many failed sign-ins\. Try again later\.$/);
  });

  it('names an unreachable server and keeps the reason, without saying "cannot reach" twice', () => {
    expect(describeError({ code: 'SERVER_UNREACHABLE', message: 'cannot reach eu.tether.example: host name not found' })).toBe(
      'Cannot reach the server eu.tether.example: host name not found.',
    );
    expect(describeError({ code: 'SERVER_UNREACHABLE', message: 'tether.example answered HTTP 502; is this a Tether server?' })).toBe(
      'Cannot reach the server: tether.example answered HTTP 502; is this a Tether server?',
    );
  });

  it('explains a certificate pin mismatch in terms of proxies and wrong servers', () => {
    expect(describeError({ code: 'CERT_PIN_MISMATCH', message: 'self-signed certificate' })).toBe(
      "The server's certificate does not match the one pinned for this profile — you may be behind a TLS-inspecting proxy or talking to the wrong server.",
    );
  });

  it('blames the proxy for both proxy refusals', () => {
    for (const code of ['PROXY_REFUSED', 'PROXY_AUTH_REQUIRED'] as const) {
      expect(describeError({ code, message: 'proxy.local answered 407' })).toBe('The proxy refused the connection: proxy.local answered 407.');
    }
  });

  it('gives rate limiting and simulator failures their own words', () => {
    expect(describeError({ code: 'RATE_LIMITED', message: 'too many requests', details: { retryAfterSeconds: 12 } })).toBe('Too many requests. Try again in 12 seconds.');
    expect(describeError({ code: 'SIMULATOR_FAILED', message: 'the simulator exited (1) before it was ready' })).toBe(
      'The simulator could not run: the simulator exited (1) before it was ready.',
    );
  });

  it('falls back to the message as a sentence for other codes and for plain errors', () => {
    expect(describeError({ code: 'NOT_FOUND', message: 'no device d9' })).toBe('No device d9.');
    expect(describeError(new Error('boom!'))).toBe('Boom!');
    expect(describeError({ code: 'INTERNAL', message: '' })).toBe('Something went wrong.');
  });

  it('offers a busy device\'s observer seat, naming who holds it', () => {
    expect(describeError({ code: 'SESSION_BUSY', message: 'Ann already has a session', details: { sessionId: 's7', engineer: 'ann' } })).toBe(
      'Another engineer (ann) is already in control of this device; only one at a time. Join their session as an observer, or request again after it ends.',
    );
  });

  it('says why a diagnostic stopped when its session ended, without repeating "the session ended"', () => {
    expect(describeError({ code: 'SESSION_ENDED', message: 'the session ended (CUSTOMER_REVOKED): revoked at the device by the customer' })).toBe(
      'The session ended — revoked at the device by the customer.',
    );
    expect(describeError({ code: 'SESSION_ENDED', message: 'the session ended: its time ran out' })).toBe('The session ended — its time ran out.');
  });

  it('tells what to do when a session is missing, not active, refused or its grant rejected', () => {
    expect(describeError({ code: 'SESSION_REQUIRED', message: 'this needs an active service session with the diagnose scope on the device' })).toBe(
      'This needs an active service session with the diagnose scope on the device. Request a service session with the scope it needs first.',
    );
    expect(describeError({ code: 'SESSION_NOT_ACTIVE', message: 'the session already ended' })).toBe('This needs an active service session, and it is not active: the session already ended.');
    expect(describeError({ code: 'CONSENT_DENIED', message: 'the consent policy no longer allows this session to be extended' })).toBe(
      "The customer's consent was denied: the consent policy no longer allows this session to be extended.",
    );
    expect(describeError({ code: 'GRANT_INVALID', message: 'the grant has expired' })).toMatch(/^The device refused the session's grant .*: the grant has expired\. End the session and request a new one\.$/);
  });
});
