import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, exportPKCS8, generateKeyPair, importPKCS8, type CryptoKey } from 'jose';
import { readFileIfExists, writeFileAtomic } from '#node-lib/files';
import { GRANT_AUDIENCE, GRANT_ISSUER, GRANT_TYPE, type SessionScope } from '#contract/sessions';

/**
 * Signs session grants: JWS (EdDSA) naming the device, session, scopes and expiry. The
 * agent pins the public key at enrollment and verifies every grant itself. A grant for the
 * same session state is the same token (Ed25519 signatures are deterministic), so the
 * state sync that carries it stays stable.
 */
export class GrantIssuer {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicKeyPem: string,
  ) {}

  static async loadOrCreate(dataDir: string): Promise<GrantIssuer> {
    const path = join(dataDir, 'keys', 'grant.key.pem');
    let pem = readFileIfExists(path);
    if (!pem) {
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      pem = await exportPKCS8(privateKey);
      writeFileAtomic(path, pem, 0o600);
    }
    const publicKeyPem = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
    return new GrantIssuer(await importPKCS8(pem, 'EdDSA'), publicKeyPem);
  }

  sign(grant: { deviceId: string; sessionId: string; scopes: readonly SessionScope[]; issuedAt: number; expiresAt: number }): Promise<string> {
    return new SignJWT({ sid: grant.sessionId, scopes: [...grant.scopes] })
      .setProtectedHeader({ alg: 'EdDSA', typ: GRANT_TYPE })
      .setSubject(grant.deviceId)
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setIssuedAt(Math.floor(grant.issuedAt / 1000))
      .setExpirationTime(Math.floor(grant.expiresAt / 1000))
      .sign(this.privateKey);
  }
}
