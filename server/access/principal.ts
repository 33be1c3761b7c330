import type { Capability, Role } from '#contract/api/auth';

/** A signed-in technician as every route sees them, scope loaded fresh per request. */
export interface Principal {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly role: Role;
  /** `all`, or the customers this user may see. */
  readonly customers: 'all' | ReadonlySet<string>;
  /** The login session (refresh-token family) this request belongs to. */
  readonly familyId: string;
  /** When the access token behind this request expires (epoch ms). */
  readonly tokenExpiresAt: number;
}

const CAPABILITIES: Record<Role, readonly Capability[]> = {
  admin: ['view', 'command', 'acknowledge', 'admin', 'audit'],
  engineer: ['view', 'command', 'acknowledge'],
  viewer: ['view'],
};

export function can(principal: Pick<Principal, 'role'>, capability: Capability): boolean {
  return CAPABILITIES[principal.role].includes(capability);
}

/** Whether a customer's records are visible to this principal. */
export function inScope(principal: Pick<Principal, 'customers'>, customerId: string): boolean {
  return principal.customers === 'all' || principal.customers.has(customerId);
}

/** Customer ids to filter lists by, or undefined for fleet-wide principals. */
export function scopeFilter(principal: Pick<Principal, 'customers'>): string[] | undefined {
  return principal.customers === 'all' ? undefined : [...principal.customers];
}
