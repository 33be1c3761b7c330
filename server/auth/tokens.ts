import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, errors, exportPKCS8, generateKeyPair, importPKCS8, importSPKI, jwtVerify, type CryptoKey } from 'jose';
import { readFileIfExists, writeFileAtomic } from '#node-lib/files';
import { TetherError } from '#contract/errors';

const ISSUER = 'tether';
const AUDIENCE = 'tether-api';

/** Claims of an access token: who, and which login session (token family) it belongs to. */
export interface AccessClaims {
  userId: string;
  familyId: string;
  role: string;
  /** Epoch ms when the token stops being accepted. */
  expiresAt?: number;
}

/**
 * Signs and verifies short-lived access tokens (JWT, EdDSA). The key is made on first
 * start and kept in the data dir; every node of a cluster shares the data dir's keys.
 */
export class AccessTokenIssuer {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly ttlSeconds: number,
  ) {}

  static async loadOrCreate(dataDir: string, ttlSeconds: number): Promise<AccessTokenIssuer> {
    const path = join(dataDir, 'keys', 'access-token.key.pem');
    let pem = readFileIfExists(path);
    if (!pem) {
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      pem = await exportPKCS8(privateKey);
      writeFileAtomic(path, pem, 0o600);
    }
    const spki = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
    return new AccessTokenIssuer(
      await importPKCS8(pem, 'EdDSA', { extractable: false }),
      await importSPKI(spki, 'EdDSA'),
      ttlSeconds,
    );
  }

  get expiresIn(): number {
    return this.ttlSeconds;
  }

  sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ sid: claims.familyId, role: claims.role })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setJti(randomBytes(12).toString('base64url'))
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.privateKey);
  }

  /** Verifies signature, issuer, audience and expiry; TOKEN_EXPIRED or TOKEN_INVALID otherwise. */
  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['EdDSA'],
        typ: 'at+jwt',
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.role !== 'string') {
        throw new TetherError('TOKEN_INVALID', 'access token lacks required claims');
      }
      return { userId: payload.sub, familyId: payload.sid, role: payload.role, expiresAt: (payload.exp ?? 0) * 1000 };
    } catch (err) {
      if (err instanceof TetherError) throw err;
      if (err instanceof errors.JWTExpired) throw new TetherError('TOKEN_EXPIRED', 'access token has expired; refresh it');
      throw new TetherError('TOKEN_INVALID', 'access token is not valid');
    }
  }
}

/** A new opaque refresh token and the hash that is stored in its place. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = `rt_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashOpaqueToken(token) };
}

/** SHA-256 of a high-entropy random token; safe to store and look up (no salt needed). */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
