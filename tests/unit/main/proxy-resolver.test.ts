import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TetherError } from '#contract/errors';
import { ProxySettingsSchema, type ProxySettings } from '#contract/proxy';
import { ProxyResolver, environmentProxyLookup, firstUsableRoute } from '#node-lib/proxy-resolver';
import { tempDir } from '../../helpers/server.ts';

const PAC = `function FindProxyForURL(url, host) {
  if (shExpMatch(host, "*.direct.test")) return "DIRECT";
  if (host === "socks.test") return "SOCKS5 127.0.0.1:1080; PROXY 127.0.0.1:3129";
  if (host === "secure.test") return "HTTPS 127.0.0.1:3443";
  if (host === "nothing.test") return "SOCKS 127.0.0.1:1080";
  if (host === "throws.test") throw new Error("boom");
  return "PROXY 127.0.0.1:3128; DIRECT";
}`;

/** Never answers for one host: a script bug that must not freeze whoever evaluates it. */
const LOOPING_PAC = `function FindProxyForURL(url, host) {
  if (host === "stuck.test") { var n = 0; while (true) { n++; } }
  return "PROXY 127.0.0.1:3128";
}`;

/** A loopback HTTP server serving PAC scripts by path, counting requests. */
let pacServer: http.Server;
let pacBase: string;
const served: string[] = [];

beforeAll(async () => {
  pacServer = http.createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/proxy.pac') {
      res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' });
      res.end(PAC);
    } else if (req.url === '/loops.pac') {
      res.writeHead(200);
      res.end(LOOPING_PAC);
    } else if (req.url === '/loops-on-load.pac') {
      res.writeHead(200);
      res.end('while (true) {}\nfunction FindProxyForURL(url, host) { return "DIRECT"; }');
    } else if (req.url === '/broken.pac') {
      res.writeHead(200);
      res.end('function FindProxyForURL(url, host) { return "DIRECT" ');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => pacServer.listen(0, '127.0.0.1', resolve));
  pacBase = `http://127.0.0.1:${(pacServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => pacServer.close(() => resolve()));
});

function resolverFor(settings: ProxySettings, password?: string, system = () => Promise.resolve('DIRECT'), signInPasswords: Record<string, string> = {}): ProxyResolver {
  return new ProxyResolver({ settings: () => settings, password: () => password, system, signInPassword: (proxy) => signInPasswords[proxy], pacTimeoutMs: 300 });
}

async function refusal(promise: Promise<unknown>): Promise<TetherError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

describe('ProxySettings schema', () => {
  it('accepts each mode in its own shape and refuses URLs with paths, credentials or other schemes', () => {
    expect(ProxySettingsSchema.parse({ mode: 'manual', url: 'http://proxy.example:3128', username: 'eng' })).toEqual({ mode: 'manual', url: 'http://proxy.example:3128', username: 'eng' });
    expect(ProxySettingsSchema.safeParse({ mode: 'pac', pacUrl: 'file:///etc/proxy.pac' }).success).toBe(true);
    expect(ProxySettingsSchema.safeParse({ mode: 'manual', url: 'http://u:p@proxy.example:3128' }).success).toBe(false);
    expect(ProxySettingsSchema.safeParse({ mode: 'manual', url: 'http://proxy.example:3128/path' }).success).toBe(false);
    expect(ProxySettingsSchema.safeParse({ mode: 'manual', url: 'socks5://proxy.example:1080' }).success).toBe(false);
    expect(ProxySettingsSchema.safeParse({ mode: 'manual', url: 'http://proxy.example:3128', password: 'secret' }).success).toBe(false);
    expect(ProxySettingsSchema.safeParse({ mode: 'pac', pacUrl: 'ftp://host/proxy.pac' }).success).toBe(false);
  });
});

describe('ProxyResolver', () => {
  it('goes direct in mode none', async () => {
    expect(await resolverFor({ mode: 'none' }).resolve('https://server.test/')).toEqual({ kind: 'direct' });
  });

  it('uses the manual proxy with the username from settings and the password from the vault', async () => {
    const route = await resolverFor({ mode: 'manual', url: 'http://127.0.0.1:3128', username: 'user' }, 'pass').resolve('https://server.test/');
    expect(route).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:3128', chosenBy: 'manual', username: 'user', password: 'pass' });
  });

  it('evaluates a PAC script served over HTTP, per host, and fetches it once', async () => {
    const resolver = resolverFor({ mode: 'pac', pacUrl: `${pacBase}/proxy.pac` });
    const before = served.length;
    expect(await resolver.resolve('https://a.direct.test/')).toEqual({ kind: 'direct' });
    expect(await resolver.resolve('https://server.test/')).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:3128', chosenBy: 'pac' });
    // SOCKS is skipped for the first entry this console can use
    expect(await resolver.resolve('https://socks.test/')).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:3129', chosenBy: 'pac' });
    expect(await resolver.resolve('https://secure.test/')).toEqual({ kind: 'proxy', url: 'https://127.0.0.1:3443', chosenBy: 'pac' });
    expect(served.slice(before)).toEqual(['/proxy.pac']);
    resolver.invalidate();
    await resolver.resolve('https://server.test/');
    expect(served.slice(before)).toEqual(['/proxy.pac', '/proxy.pac']);
  });

  it('reads a PAC script from a file URL', async () => {
    const path = join(tempDir('pac-'), 'proxy.pac');
    writeFileSync(path, PAC);
    const route = await resolverFor({ mode: 'pac', pacUrl: pathToFileURL(path).href }).resolve('https://server.test/');
    expect(route).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:3128', chosenBy: 'pac' });
  });

  it('answers CONFIG_INVALID for a PAC script that does not compile, is missing, throws, or names nothing usable', async () => {
    const broken = await refusal(resolverFor({ mode: 'pac', pacUrl: `${pacBase}/broken.pac` }).resolve('https://server.test/'));
    expect(broken.code).toBe('CONFIG_INVALID');
    expect(broken.message).toContain('broken.pac');
    const missing = await refusal(resolverFor({ mode: 'pac', pacUrl: `${pacBase}/missing.pac` }).resolve('https://server.test/'));
    expect(missing.code).toBe('CONFIG_INVALID');
    expect(missing.message).toContain('HTTP 404');
    const pac = resolverFor({ mode: 'pac', pacUrl: `${pacBase}/proxy.pac` });
    const thrown = await refusal(pac.resolve('https://throws.test/'));
    expect(thrown.code).toBe('CONFIG_INVALID');
    expect(thrown.message).toContain('throws.test');
    const nothing = await refusal(pac.resolve('https://nothing.test/'));
    expect(nothing.code).toBe('CONFIG_INVALID');
    expect(nothing.message).toContain('SOCKS 127.0.0.1:1080');
  });

  it('stops a PAC script that never returns with a clear CONFIG_INVALID, and refuses it without running it again', async () => {
    const resolver = resolverFor({ mode: 'pac', pacUrl: `${pacBase}/loops.pac` });
    expect(await resolver.resolve('https://server.test/')).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:3128', chosenBy: 'pac' });
    const stuck = await refusal(resolver.resolve('https://stuck.test/'));
    expect(stuck.code).toBe('CONFIG_INVALID');
    expect(stuck.message).toBe(`the PAC script at ${pacBase}/loops.pac did not finish for stuck.test within 300 ms (a loop that never ends?); it is not used until it is fixed`);
    expect(stuck.details).toEqual({ pac: 'timeout', timeoutMs: 300 });
    // the same script is refused for every host now, without being fetched or run again
    const before = served.length;
    expect((await refusal(resolver.resolve('https://server.test/'))).message).toBe(stuck.message);
    expect(served.length).toBe(before);
    // until it is loaded afresh (the settings were saved again)
    resolver.invalidate();
    expect(await resolver.resolve('https://server.test/')).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:3128', chosenBy: 'pac' });
    expect(served.slice(before)).toEqual(['/loops.pac']);
  });

  it('stops a PAC script whose top level never finishes loading, and does not load it again for the next connection', async () => {
    const resolver = resolverFor({ mode: 'pac', pacUrl: `${pacBase}/loops-on-load.pac` });
    const before = served.length;
    const stuck = await refusal(resolver.resolve('https://server.test/'));
    expect(stuck.code).toBe('CONFIG_INVALID');
    expect(stuck.message).toContain('did not finish loading within 300 ms');
    expect((await refusal(resolver.resolve('https://other.test/'))).message).toBe(stuck.message);
    expect(served.slice(before)).toEqual(['/loops-on-load.pac']);
  });

  it('gives a proxy chosen by PAC or the system the sign-in kept for its host:port, and no other proxy any', async () => {
    const signIns = [{ proxy: '127.0.0.1:3128', username: 'ward7' }];
    const pac = resolverFor({ mode: 'pac', pacUrl: `${pacBase}/proxy.pac`, signIns }, undefined, undefined, { '127.0.0.1:3128': 'secret' });
    expect(await pac.resolve('https://server.test/')).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:3128', chosenBy: 'pac', username: 'ward7', password: 'secret' });
    expect(await pac.resolve('https://socks.test/')).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:3129', chosenBy: 'pac' });
    const system = resolverFor({ mode: 'system', signIns: [{ proxy: 'Proxy.Hospital.test:8080', username: 'ward7' }] }, undefined, () => Promise.resolve('PROXY proxy.hospital.test:8080'));
    // host names compare without case; a sign-in without a saved password sends the user name alone
    expect(await system.resolve('https://server.test/')).toEqual({ kind: 'proxy', url: 'http://proxy.hospital.test:8080', chosenBy: 'system', username: 'ward7', password: undefined });
  });

  it('takes the system answer in PAC form', async () => {
    const route = await resolverFor({ mode: 'system' }, undefined, () => Promise.resolve('PROXY 127.0.0.1:8080')).resolve('https://server.test/');
    expect(route).toEqual({ kind: 'proxy', url: 'http://127.0.0.1:8080', chosenBy: 'system' });
  });
});

describe('PAC answers and the environment as the system proxy', () => {
  it('picks the first usable entry of a PAC answer', () => {
    expect(firstUsableRoute('DIRECT; PROXY a:1', 'x')).toEqual({ kind: 'direct' });
    expect(firstUsableRoute(' proxy a.test:8080 ; DIRECT', 'x')).toEqual({ kind: 'proxy', url: 'http://a.test:8080', chosenBy: 'pac' });
    expect(() => firstUsableRoute('PROXY no-port', 'the test')).toThrow(/names no usable proxy/);
  });

  it('reads HTTPS_PROXY and honours NO_PROXY names, subdomains and ports', async () => {
    const lookup = environmentProxyLookup({ HTTPS_PROXY: 'http://127.0.0.1:3128', NO_PROXY: 'internal.test, .corp.test, *.lab.test, only.test:8443' });
    expect(await lookup('https://server.example:443/')).toBe('PROXY 127.0.0.1:3128');
    expect(await lookup('https://internal.test/')).toBe('DIRECT');
    expect(await lookup('https://a.corp.test/')).toBe('DIRECT');
    expect(await lookup('https://x.lab.test/')).toBe('DIRECT');
    expect(await lookup('https://only.test:8443/')).toBe('DIRECT');
    expect(await lookup('https://only.test/')).toBe('PROXY 127.0.0.1:3128');
    expect(await environmentProxyLookup({})('https://server.example/')).toBe('DIRECT');
  });
});
