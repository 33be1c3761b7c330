import { TetherError } from '#contract/errors';
import { isHostOrAddress } from '#contract/preflight';

/**
 * Sends a profile's host names to other addresses before any DNS: tests and demos point
 * the seed's real names at loopback listeners, so nothing here ever resolves or contacts
 * them. An entry is `name[:port]=address[:port]`; one with a port applies to that port
 * only and wins over a name-wide one.
 */
export interface HostMapEntry {
  name: string;
  /** Only this port of the name; null: every port. */
  port: number | null;
  address: string;
  /** The port to use instead; null: the target's own. */
  addressPort: number | null;
}

export type HostMap = readonly HostMapEntry[];

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function parsePort(text: string, entry: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw invalid(entry, `"${text}" is not a port (1–65535)`);
  return port;
}

function invalid(entry: string, why: string): TetherError {
  return new TetherError('VALIDATION_FAILED', `host mapping "${entry}" is invalid: ${why}; write name[:port]=address[:port], e.g. medrad.axeda.com:17001=127.0.0.1:41234`);
}

/** `address[:port]` or `[v6]:port`; an address is an IP literal so no DNS is ever needed. */
function splitAddress(text: string, entry: string): { address: string; port: number | null } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    const address = bracketed[1] ?? '';
    if (!address.includes(':')) throw invalid(entry, `"${address}" is not an IPv6 address`);
    return { address, port: bracketed[2] !== undefined ? parsePort(bracketed[2], entry) : null };
  }
  const [address = '', port, ...rest] = text.split(':');
  if (rest.length > 0) throw invalid(entry, 'write an IPv6 address in brackets, e.g. [::1]:8443');
  if (!IPV4.test(address) || address.split('.').some((octet) => Number(octet) > 255)) throw invalid(entry, `"${address}" is not an IP address (map to one such as 127.0.0.1)`);
  return { address, port: port !== undefined ? parsePort(port, entry) : null };
}

export function parseHostMapEntry(entry: string): HostMapEntry {
  const trimmed = entry.trim();
  const eq = trimmed.indexOf('=');
  if (eq <= 0 || eq === trimmed.length - 1) throw invalid(entry, 'expected name=address');
  const left = trimmed.slice(0, eq).trim();
  const right = trimmed.slice(eq + 1).trim();
  const [name = '', port, ...rest] = left.split(':');
  if (rest.length > 0 || !isHostOrAddress(name)) throw invalid(entry, `"${left}" is not a host name with an optional port`);
  const target = splitAddress(right, entry);
  return { name: name.toLowerCase(), port: port !== undefined ? parsePort(port, entry) : null, address: target.address, addressPort: target.port };
}

/** Comma-separated entries, as the CLI's --map takes them; empty parts are ignored. */
export function parseHostMap(text: string | readonly string[]): HostMap {
  const parts = (typeof text === 'string' ? [text] : text).flatMap((t) => t.split(',')).map((p) => p.trim()).filter(Boolean);
  return parts.map(parseHostMapEntry);
}

/** Where `host:port` goes under the map, or undefined when the name is not mapped. */
export function lookUpMapping(map: HostMap, host: string, port: number): { address: string; port: number } | undefined {
  const name = host.toLowerCase();
  const entry = map.find((e) => e.name === name && e.port === port) ?? map.find((e) => e.name === name && e.port === null);
  return entry ? { address: entry.address, port: entry.addressPort ?? port } : undefined;
}

/** `name:port → address:port`, for reports. */
export function describeHostMapEntry(entry: HostMapEntry): string {
  const address = entry.address.includes(':') ? `[${entry.address}]` : entry.address;
  return `${entry.name}${entry.port !== null ? `:${entry.port}` : ''} → ${address}${entry.addressPort !== null ? `:${entry.addressPort}` : ''}`;
}
