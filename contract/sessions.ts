import { z } from 'zod';

/**
 * Consent-gated service sessions: the vocabulary shared by server, agent and console.
 * Privileged work on a device needs a session the customer granted (by policy or by the
 * device-side operator), limited in scopes and time.
 */

/** What a session allows: diagnostics, file transfers, tunnels, software deployment. */
export const SESSION_SCOPES = ['diagnose', 'files', 'tunnel', 'deploy'] as const;
export const SessionScopeSchema = z.enum(SESSION_SCOPES);
export type SessionScope = z.infer<typeof SessionScopeSchema>;

/** Per scope, as Axeda's policy server: allow at once, ask the device-side operator, or deny. */
export const CONSENT_POLICIES = ['allow', 'ask', 'deny'] as const;
export const ConsentPolicySchema = z.enum(CONSENT_POLICIES);
export type ConsentPolicy = z.infer<typeof ConsentPolicySchema>;

export const ScopePoliciesSchema = z.object({
  diagnose: ConsentPolicySchema,
  files: ConsentPolicySchema,
  tunnel: ConsentPolicySchema,
  deploy: ConsentPolicySchema,
});
export type ScopePolicies = z.infer<typeof ScopePoliciesSchema>;

/** requested → awaiting-consent → active → ended, or denied. */
export const SESSION_STATES = ['requested', 'awaiting-consent', 'active', 'ended', 'denied'] as const;
export const SessionStateSchema = z.enum(SESSION_STATES);
export type ServiceSessionState = z.infer<typeof SessionStateSchema>;

/** Why a session ended (or never started), recorded with it. */
export const SESSION_END_CAUSES = [
  'USER_ENDED',
  'CUSTOMER_REVOKED',
  'EXPIRED',
  'DENIED',
  'CONSENT_TIMEOUT',
  'DEVICE_OFFLINE',
  'ADMIN_TERMINATED',
] as const;
export const SessionEndCauseSchema = z.enum(SESSION_END_CAUSES);
export type SessionEndCause = z.infer<typeof SessionEndCauseSchema>;

/** What a consent request asks the operator for: a new session, or more time. */
export const ConsentKindSchema = z.enum(['start', 'extend']);
export type ConsentKind = z.infer<typeof ConsentKindSchema>;

/** Who the operator at the device is told is connected. */
export const SessionPersonSchema = z.object({ username: z.string(), displayName: z.string() });
export type SessionPerson = z.infer<typeof SessionPersonSchema>;

/**
 * The claims of a grant: a server-signed token (JWS, EdDSA) naming the device, the session,
 * its scopes and its expiry. The agent verifies it itself before any privileged command.
 */
export const GrantClaimsSchema = z.object({
  sub: z.string(),
  sid: z.string(),
  scopes: z.array(SessionScopeSchema),
  exp: z.number().int(),
  iat: z.number().int(),
});
export type GrantClaims = z.infer<typeof GrantClaimsSchema>;

export const GRANT_ISSUER = 'tether';
export const GRANT_AUDIENCE = 'tether-agent';
export const GRANT_TYPE = 'grant+jwt';

/** Human words for end causes, for notifications and history. */
export const END_CAUSE_TEXT: Readonly<Record<SessionEndCause, string>> = {
  USER_ENDED: 'ended by the engineer',
  CUSTOMER_REVOKED: 'revoked at the device by the customer',
  EXPIRED: 'its time ran out',
  DENIED: 'consent was denied',
  CONSENT_TIMEOUT: 'nobody answered the consent request in time',
  DEVICE_OFFLINE: 'the device went offline',
  ADMIN_TERMINATED: 'terminated by an administrator',
};
