import { PROFILE_FORMAT, PROFILE_VERSION, type PreflightProfile } from '#contract/preflight';

/**
 * The custom profile editor's text form: one host per line with its ports,
 * `portal.hospital.example: 443, 8080`. Protocols and needs follow the per-port defaults;
 * anything finer is written in an imported JSON profile, which keeps such a target as is.
 */

/** The editor's lines for a profile, hosts in first-seen order. */
export function hostLines(profile: Pick<PreflightProfile, 'targets'>): string {
  const ports = new Map<string, number[]>();
  for (const target of profile.targets) ports.set(target.host, [...(ports.get(target.host) ?? []), target.port]);
  return [...ports].map(([host, list]) => `${host}: ${list.join(', ')}`).join('\n');
}

/** Targets from the editor's lines; each problem names its line. Hosts are checked by main. */
export function parseHostLines(text: string): { targets: PreflightProfile['targets']; problems: string[] } {
  const targets: PreflightProfile['targets'] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const colon = line.lastIndexOf(':');
    const host = (colon >= 0 ? line.slice(0, colon) : line).trim();
    const portText = colon >= 0 ? line.slice(colon + 1) : '';
    const ports = portText.split(/[\s,]+/).filter(Boolean);
    if (!host || ports.length === 0) {
      problems.push(`line ${index + 1}: write the host, a colon, then its ports (e.g. portal.hospital.example: 443, 8080)`);
      return;
    }
    for (const port of ports) {
      const value = Number(port);
      if (!/^\d+$/.test(port) || value < 1 || value > 65535) problems.push(`line ${index + 1}: "${port}" is not a port (1–65535)`);
      else targets.push({ host, port: value });
    }
  });
  if (targets.length === 0 && problems.length === 0) problems.push('add at least one host with its ports');
  return { targets, problems };
}

/** A profile id from its name: lower-case words joined by dashes. */
export function profileIdFor(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return slug || 'custom';
}

/**
 * The profile the editor saves. Targets that kept their host and port keep their
 * settings from an imported profile (protocol, need, fallback).
 */
export function editedProfile(base: PreflightProfile | null, name: string, targets: PreflightProfile['targets']): PreflightProfile {
  const earlier = new Map((base?.targets ?? []).map((t) => [`${t.host.toLowerCase()}:${t.port}`, t]));
  return {
    format: PROFILE_FORMAT,
    version: PROFILE_VERSION,
    id: base?.id ?? profileIdFor(name),
    name: name.trim(),
    ...(base?.description !== undefined ? { description: base.description } : {}),
    targets: targets.map((t) => earlier.get(`${t.host.toLowerCase()}:${t.port}`) ?? t),
  };
}
