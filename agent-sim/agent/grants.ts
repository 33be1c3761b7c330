import { errors, importSPKI, jwtVerify, type CryptoKey } from 'jose';
import {
  GRANT_AUDIENCE,
  GRANT_ISSUER,
  GRANT_TYPE,
  GrantClaimsSchema,
  type GrantClaims,
  type SessionScope,
} from '#contract/sessions';

/** Why the agent refused a grant; each is named in the command's error and the local audit. */
export type GrantRefusalReason =
  | 'no-grant'
  | 'no-key'
  | 'forged'
  | 'malformed'
  | 'not-for-agent'
  | 'expired'
  | 'other-device'
  | 'other-session'
  | 'missing-scope'
  | 'revoked'
  | 'ended';

export type GrantCheck =
  | { ok: true; claims: GrantClaims }
  | { ok: false; reason: GrantRefusalReason; message: string };

/** A refusal with its reason and the words the engineer and the local audit see. */
export function grantRefusal(reason: GrantRefusalReason, message: string): GrantCheck {
  return { ok: false, reason, message };
}

/**
 * Verifies session grants on the device itself, against the key pinned at enrollment only:
 * a grant the server did not sign, or that names another device or session, has expired,
 * or lacks the scope a command needs, is refused — whoever delivered it.
 */
export class GrantVerifier {
  private key: Promise<CryptoKey> | undefined;

  constructor(
    private readonly publicKeyPem: string | undefined,
    readonly deviceId: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Checks `token` for this device and `sessionId`; with `scope`, also that the grant
   * carries it. Never throws: every failure is a refusal naming its reason.
   */
  async verify(token: string | undefined, expected: { sessionId: string | undefined; scope?: SessionScope }): Promise<GrantCheck> {
    if (!token || !expected.sessionId) return grantRefusal('no-grant', 'the command came without a session grant');
    if (!this.publicKeyPem) return grantRefusal('no-key', 'no grant key is pinned on this device; re-enroll it');
    let key: CryptoKey;
    try {
      this.key ??= importSPKI(this.publicKeyPem, 'EdDSA');
      key = await this.key;
    } catch (err) {
      return grantRefusal('no-key', `the pinned grant key cannot be read (${(err as Error).message}); re-enroll the device`);
    }
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, key, {
        issuer: GRANT_ISSUER,
        audience: GRANT_AUDIENCE,
        typ: GRANT_TYPE,
        algorithms: ['EdDSA'],
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      return describeJoseFailure(err);
    }
    const claims = GrantClaimsSchema.safeParse(payload);
    if (!claims.success) return grantRefusal('malformed', 'the grant does not carry the claims of a session grant');
    if (claims.data.sub !== this.deviceId) return grantRefusal('other-device', `the grant is for another device (${claims.data.sub})`);
    if (claims.data.sid !== expected.sessionId) {
      return grantRefusal('other-session', `the grant is for another session (${claims.data.sid}, not ${expected.sessionId})`);
    }
    if (expected.scope && !claims.data.scopes.includes(expected.scope)) {
      return grantRefusal('missing-scope', `the grant lacks the "${expected.scope}" scope (it allows: ${claims.data.scopes.join(', ') || 'nothing'})`);
    }
    return { ok: true, claims: claims.data };
  }
}

function describeJoseFailure(err: unknown): GrantCheck {
  if (err instanceof errors.JWTExpired) return grantRefusal('expired', 'the grant has expired');
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return grantRefusal('forged', 'the grant is not signed by the server this device trusts (forged or altered)');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return grantRefusal('not-for-agent', `the grant was not issued for this agent (${err.claim}: ${err.reason})`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return grantRefusal('forged', 'the grant is not signed with EdDSA (forged)');
  return grantRefusal('malformed', `the grant is not a well-formed token (${(err as Error).message})`);
}
