import { describe, expect, it } from 'vitest';
import { TetherError } from '#contract/errors';
import {
  MEDRAD_PROFILE,
  RADIMETRICS_PROFILE,
  exportPreflightProfile,
  importPreflightProfile,
  parsePreflightProfile,
  profileForServer,
  resolveTarget,
  resolveTargets,
} from '../../../src/main/services/preflight/profiles.ts';
import { PROFILE_FORMAT } from '#contract/preflight';

function portsByHost(profile: typeof RADIMETRICS_PROFILE): Record<string, number[]> {
  const table: Record<string, number[]> = {};
  for (const t of profile.targets) (table[t.host] ??= []).push(t.port);
  for (const ports of Object.values(table)) ports.sort((a, b) => a - b);
  return table;
}

function rejection(fn: () => unknown): TetherError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TetherError) return err;
    throw err;
  }
  throw new Error('expected a TetherError');
}

const custom = {
  format: PROFILE_FORMAT,
  version: 1,
  id: 'st-mary-pacs',
  name: 'St Mary PACS gateway',
  targets: [
    { host: 'pacs.example.org', port: 443 },
    { host: 'pacs.example.org', port: 11112, protocol: 'tcp', need: 'optional' },
  ],
};

describe('built-in pre-flight profiles', () => {
  it('copy the seed table for Radimetrics: nine host names with their ports', () => {
    expect(portsByHost(RADIMETRICS_PROFILE)).toEqual({
      'subversion.assembla.com': [80, 443],
      'supportserver.radimetrics.com': [80, 443, 8080],
      'uksupportserver.radimetrics.com': [80, 443, 8080],
      'medrad.axeda.com': [443, 17001, 17002],
      'ghsj1.axeda.com': [443, 17001, 17002],
      'ghsom1.axeda.com': [443, 17001, 17002],
      'Gas-aus.axeda.com': [443, 17001, 17002],
      'ghjap1.axeda.com': [443, 17001, 17002],
      'ghuk1.axeda.com': [443, 17001, 17002],
    });
    expect(RADIMETRICS_PROFILE.name).toBe('Radimetrics Enterprise Platform');
  });

  it('copy the seed table for MEDRAD injectors: six host names, each on 443/17001/17002', () => {
    const table = portsByHost(MEDRAD_PROFILE);
    expect(Object.keys(table)).toHaveLength(6);
    expect(Object.values(table).every((ports) => ports.join() === '443,17001,17002')).toBe(true);
    expect(MEDRAD_PROFILE.name).toBe('MEDRAD Injection System Fluid Delivery Devices');
  });

  it('are valid profiles themselves', () => {
    expect(parsePreflightProfile(RADIMETRICS_PROFILE)).toEqual(RADIMETRICS_PROFILE);
    expect(parsePreflightProfile(MEDRAD_PROFILE)).toEqual(MEDRAD_PROFILE);
  });
});

describe('target defaults', () => {
  it('TLS and required on 443; TLS and preferred (falling back to 443) on 17001/17002; HTTP and optional on 80/8080', () => {
    expect(resolveTarget({ host: 'a.example', port: 443 })).toEqual({ host: 'a.example', port: 443, protocol: 'tls', need: 'required', fallbackPort: null });
    expect(resolveTarget({ host: 'a.example', port: 17002 })).toMatchObject({ protocol: 'tls', need: 'preferred', fallbackPort: 443 });
    expect(resolveTarget({ host: 'a.example', port: 8080 })).toMatchObject({ protocol: 'http', need: 'optional', fallbackPort: null });
    expect(resolveTarget({ host: 'a.example', port: 5000 })).toMatchObject({ protocol: 'tcp', need: 'required' });
  });

  it('lets a target override the protocol, the need and the fallback port', () => {
    expect(resolveTarget({ host: 'a.example', port: 8443, protocol: 'tls', need: 'preferred', fallbackPort: 443 })).toMatchObject({ protocol: 'tls', need: 'preferred', fallbackPort: 443 });
    expect(resolveTarget({ host: 'a.example', port: 443, protocol: 'tcp' })).toMatchObject({ protocol: 'tcp' });
  });
});

describe('custom profiles', () => {
  it('export as JSON and import back unchanged', () => {
    const profile = parsePreflightProfile(custom);
    const json = exportPreflightProfile(profile);
    expect(JSON.parse(json)).toMatchObject({ format: PROFILE_FORMAT, version: 1, id: 'st-mary-pacs' });
    expect(importPreflightProfile(json)).toEqual(profile);
    expect(resolveTargets(profile).map((t) => `${t.port}/${t.protocol}/${t.need}`)).toEqual(['443/tls/required', '11112/tcp/optional']);
  });

  it('refuse text that is not JSON with MALFORMED_JSON', () => {
    expect(rejection(() => importPreflightProfile('{"format": '))).toMatchObject({ code: 'MALFORMED_JSON' });
  });

  it('name every problem with its place', () => {
    const err = rejection(() =>
      parsePreflightProfile({
        ...custom,
        targets: [
          { host: 'pacs.example.org', port: 443 },
          { host: 'PACS.example.org', port: 443 },
          { host: 'bad host!', port: 70000 },
          { host: 'ok.example', port: 17001, fallbackPort: 17001 },
        ],
      }),
    );
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toContain('targets.1: PACS.example.org:443 is listed twice');
    expect(err.message).toContain('targets.2.host: not a host name or IP address');
    expect(err.message).toContain('targets.2.port: ports run from 1 to 65535');
    expect(err.message).toContain('targets.3.fallbackPort: a target cannot fall back to its own port');
  });

  it('refuse another format, a future version, unknown fields and an empty target list', () => {
    expect(rejection(() => parsePreflightProfile({ ...custom, format: 'something-else' })).message).toContain('"format" must be "tether.preflight-profile"');
    expect(rejection(() => parsePreflightProfile({ ...custom, version: 2 })).message).toContain('version');
    expect(rejection(() => parsePreflightProfile({ ...custom, extra: true })).message).toMatch(/extra/);
    expect(rejection(() => parsePreflightProfile({ ...custom, targets: [] })).message).toContain('at least one host and port');
    expect(rejection(() => parsePreflightProfile({ ...custom, targets: [{ host: 'a.example', port: 443, protocol: 'udp' }] })).message).toContain('targets.0.protocol');
  });
});

describe('profile for the connected Tether server', () => {
  it('checks the API port as required TLS and each relay port as TLS falling back to it', () => {
    const profile = profileForServer('https://tether.hospital.example:8443', [17001, 8443, 17001, 17002]);
    expect(resolveTargets(profile)).toEqual([
      { host: 'tether.hospital.example', port: 8443, protocol: 'tls', need: 'required', fallbackPort: null },
      { host: 'tether.hospital.example', port: 17001, protocol: 'tls', need: 'preferred', fallbackPort: 8443 },
      { host: 'tether.hospital.example', port: 17002, protocol: 'tls', need: 'preferred', fallbackPort: 8443 },
    ]);
    expect(profile.name).toBe('Tether server tether.hospital.example:8443');
  });

  it('uses 443 when the URL names no port, and unwraps IPv6 literals', () => {
    expect(resolveTargets(profileForServer('https://us.tether.example'))).toEqual([{ host: 'us.tether.example', port: 443, protocol: 'tls', need: 'required', fallbackPort: null }]);
    expect(resolveTargets(profileForServer('https://[::1]:9443'))[0]).toMatchObject({ host: '::1', port: 9443 });
  });

  it('refuses a URL that is not https with VALIDATION_FAILED', () => {
    expect(rejection(() => profileForServer('http://tether.example'))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(rejection(() => profileForServer('not a url'))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(rejection(() => profileForServer('https://tether.example', [0]))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
