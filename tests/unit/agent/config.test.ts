import { describe, expect, it } from 'vitest';
import { bypassesProxy, parseAgentConfig, proxyFromEnv } from '../../../agent-sim/agent/config.ts';
import { TetherError } from '#contract/errors';

const CA_PEM = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(120)}\n-----END CERTIFICATE-----\n`;
const minimal = { serverUrl: 'https://tether.example:8443', serverCaPem: CA_PEM, dataDir: '/var/lib/tether-agent' };

/** The error a bad configuration is refused with. */
function refusal(input: unknown): TetherError {
  try {
    parseAgentConfig(input);
  } catch (err) {
    if (err instanceof TetherError) return err;
    throw err;
  }
  throw new Error('configuration was accepted');
}

describe('parseAgentConfig', () => {
  it('fills in the documented defaults for a minimal configuration', () => {
    const config = parseAgentConfig(minimal);
    expect(config).toEqual({
      ...minimal,
      hostMap: {},
      backoff: { baseMs: 1000, maxMs: 60_000 },
      outboundQueueLimit: 10_000,
      fullReportIntervalMs: 300_000,
      dataFlushMs: 2000,
      requestTimeoutMs: 15_000,
    });
    expect(config.proxy).toBeUndefined();
  });

  it('keeps values that are given, including a proxy', () => {
    const config = parseAgentConfig({
      ...minimal,
      proxy: { url: 'http://proxy.hospital.local:3128', username: 'u', password: 'p', noProxy: 'localhost' },
      outboundQueueLimit: 50,
      backoff: { baseMs: 10, maxMs: 100 },
    });
    expect(config.proxy).toEqual({ url: 'http://proxy.hospital.local:3128', username: 'u', password: 'p', noProxy: 'localhost' });
    expect(config.outboundQueueLimit).toBe(50);
    expect(config.backoff).toEqual({ baseMs: 10, maxMs: 100 });
  });

  it('refuses a plain http:// server URL as CONFIG_INVALID naming serverUrl', () => {
    const err = refusal({ ...minimal, serverUrl: 'http://tether.example' });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('serverUrl');
  });

  it('refuses a configuration without the server CA as CONFIG_INVALID naming serverCaPem', () => {
    const { serverCaPem: _omitted, ...withoutCa } = minimal;
    const err = refusal(withoutCa);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('serverCaPem');
    expect(refusal({ ...minimal, serverCaPem: 'too short' }).message).toContain('serverCaPem');
  });

  it('names every bad field, nested ones by their path, and refuses unknown fields', () => {
    const err = refusal({ ...minimal, dataDir: '', outboundQueueLimit: 5, backoff: { baseMs: 0, maxMs: 10 }, colour: 'blue' });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('dataDir');
    expect(err.message).toContain('outboundQueueLimit');
    expect(err.message).toContain('backoff.baseMs');
    expect(err.message).toContain('colour');
  });

  it('refuses a proxy that is not an http(s) URL', () => {
    const err = refusal({ ...minimal, proxy: { url: 'socks5://proxy:1080' } });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('proxy.url');
  });

  it('refuses something that is not an object at all', () => {
    expect(refusal(null).code).toBe('CONFIG_INVALID');
    expect(refusal('https://tether.example').code).toBe('CONFIG_INVALID');
  });
});

describe('proxyFromEnv', () => {
  it('is undefined when no HTTPS proxy is set', () => {
    expect(proxyFromEnv({})).toBeUndefined();
    expect(proxyFromEnv({ NO_PROXY: 'localhost' })).toBeUndefined();
  });

  it('reads HTTPS_PROXY and NO_PROXY', () => {
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'localhost,.internal' })).toEqual({ url: 'http://proxy:3128', noProxy: 'localhost,.internal' });
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://proxy:3128' })).toEqual({ url: 'http://proxy:3128' });
  });

  it('reads the lower-case forms too, preferring the upper-case ones', () => {
    expect(proxyFromEnv({ https_proxy: 'http://lower:3128', no_proxy: 'lan' })).toEqual({ url: 'http://lower:3128', noProxy: 'lan' });
    expect(proxyFromEnv({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128' })?.url).toBe('http://upper:3128');
  });
});

describe('bypassesProxy', () => {
  it('never bypasses without a list', () => {
    expect(bypassesProxy('tether.example', undefined)).toBe(false);
    expect(bypassesProxy('tether.example', '')).toBe(false);
  });

  it('bypasses an exact host, case-insensitively', () => {
    expect(bypassesProxy('tether.example', 'tether.example')).toBe(true);
    expect(bypassesProxy('Tether.Example', 'other.example, TETHER.example')).toBe(true);
  });

  it('bypasses the domain and its subdomains for a ".suffix" entry', () => {
    expect(bypassesProxy('a.hospital.local', '.hospital.local')).toBe(true);
    expect(bypassesProxy('deep.a.hospital.local', '.hospital.local')).toBe(true);
    expect(bypassesProxy('hospital.local', '.hospital.local')).toBe(true);
  });

  it('bypasses subdomains for a bare "suffix" entry', () => {
    expect(bypassesProxy('a.hospital.local', 'hospital.local')).toBe(true);
  });

  it('bypasses everything for "*"', () => {
    expect(bypassesProxy('anything.example', '*')).toBe(true);
    expect(bypassesProxy('10.0.0.1', 'localhost, *')).toBe(true);
  });

  it('does not bypass hosts that only share a tail of characters or are absent from the list', () => {
    expect(bypassesProxy('nothospital.local', 'hospital.local')).toBe(false);
    expect(bypassesProxy('nothospital.local', '.hospital.local')).toBe(false);
    expect(bypassesProxy('tether.example', 'localhost,127.0.0.1,.internal')).toBe(false);
    expect(bypassesProxy('hospital.local.evil.example', 'hospital.local')).toBe(false);
  });
});

describe('parseAgentConfig with the console’s proxy settings shape', () => {
  it('applies a manual proxy in the shared shape and drops mode none', () => {
    const manual = parseAgentConfig({ ...minimal, proxy: { mode: 'manual', url: 'http://proxy.hospital.local:3128', username: 'svc' } });
    expect(manual.proxy).toEqual({ url: 'http://proxy.hospital.local:3128', username: 'svc' });
    expect(parseAgentConfig({ ...minimal, proxy: { mode: 'none' } }).proxy).toBeUndefined();
  });

  it('keeps pac and system modes as they are, sign-ins with their passwords included', () => {
    const pac = { mode: 'pac', pacUrl: 'http://wpad.hospital.local/proxy.pac', signIns: [{ proxy: 'proxy.hospital.local:3128', username: 'svc', password: 'secret' }] };
    expect(parseAgentConfig({ ...minimal, proxy: pac }).proxy).toEqual(pac);
    expect(parseAgentConfig({ ...minimal, proxy: { mode: 'system' } }).proxy).toEqual({ mode: 'system' });
  });

  it('refuses a bad PAC URL or sign-in naming the field', () => {
    const scheme = refusal({ ...minimal, proxy: { mode: 'pac', pacUrl: 'ftp://wpad.hospital.local/proxy.pac' } });
    expect(scheme.code).toBe('CONFIG_INVALID');
    expect(scheme.message).toContain('proxy.pacUrl: the PAC URL must start with http://, https:// or file://');
    const signIn = refusal({ ...minimal, proxy: { mode: 'system', signIns: [{ proxy: 'no port', username: 'svc' }] } });
    expect(signIn.message).toContain('proxy.signIns.0.proxy: write the proxy as host:port');
  });

  it('refuses a malformed shared proxy naming the field', () => {
    const err = refusal({ ...minimal, proxy: { mode: 'manual', url: 'http://proxy.hospital.local' } });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('proxy.url');
  });
});
