import { describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  allowNavigation,
  contentSecurityPolicy,
  decidePermission,
  decideWindowOpen,
  isAppUrl,
  isExternalAllowed,
  safeStoragePersistable,
  secureWebPreferences,
} from '../../../src/main/security.ts';

describe('Electron security baseline', () => {
  it('runs the renderer isolated, sandboxed, without Node, with web security on', () => {
    const prefs = secureWebPreferences('/app/preload.cjs');
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('sends a strict CSP: scripts only from the app, no eval, no plugins, no framing', () => {
    const csp = contentSecurityPolicy();
    const directives = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    expect(directives['script-src']).toBe("'self'");
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(directives['object-src']).toBe("'none'");
    expect(directives['frame-ancestors']).toBe("'none'");
    expect(directives['default-src']).toBe("'self'");
    expect(contentSecurityPolicy({ connectSrc: ['ws://127.0.0.1:5000'] })).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:5000/);
  });

  it('compares origins parsed, never by prefix', () => {
    expect(isAppUrl(`${APP_ORIGIN}/index.html`)).toBe(true);
    expect(isAppUrl(`${APP_ORIGIN}/deep/path?x=1#y`)).toBe(true);
    expect(isAppUrl('app://tether.evil.com/index.html')).toBe(false);
    expect(isAppUrl('app://tether@evil.com/')).toBe(false);
    expect(isAppUrl('https://tether/index.html')).toBe(false);
    expect(isAppUrl('file:///etc/passwd')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
    expect(isAppUrl('http://127.0.0.1:4000/', 'http://127.0.0.1:4000')).toBe(true);
    expect(isAppUrl('http://127.0.0.1:40001/', 'http://127.0.0.1:4000')).toBe(false);
  });

  it('denies navigation away from the app', () => {
    expect(allowNavigation(`${APP_ORIGIN}/index.html`)).toBe(true);
    expect(allowNavigation('https://evil.example/')).toBe(false);
    expect(allowNavigation('app://tether.evil.com/')).toBe(false);
  });

  it('denies every new window; only allow-listed https links go to the system browser', () => {
    expect(decideWindowOpen('https://docs.tether.example/guide')).toEqual({ action: 'deny', openExternally: true });
    expect(decideWindowOpen('https://evil.example/')).toEqual({ action: 'deny', openExternally: false });
    expect(decideWindowOpen('http://docs.tether.example/')).toEqual({ action: 'deny', openExternally: false });
    expect(decideWindowOpen('https://docs.tether.example.evil.com/')).toEqual({ action: 'deny', openExternally: false });
    expect(isExternalAllowed('https://user:pw@docs.tether.example/')).toBe(false);
    expect(isExternalAllowed('javascript:alert(1)')).toBe(false);
    expect(isExternalAllowed('file:///etc/passwd')).toBe(false);
  });

  it('denies permission requests by default', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'unknown-future-permission']) {
      expect(decidePermission(permission)).toBe(false);
    }
  });

  it('refuses to persist secrets where Linux reports the basic_text backend or there is no encryption', () => {
    expect(safeStoragePersistable(true, 'gnome_libsecret')).toEqual({ ok: true });
    expect(safeStoragePersistable(true, undefined)).toEqual({ ok: true });
    expect(safeStoragePersistable(true, 'basic_text')).toMatchObject({ ok: false, reason: expect.stringMatching(/basic_text/) });
    expect(safeStoragePersistable(false, 'kwallet5')).toMatchObject({ ok: false });
  });
});
