import { describe, expect, it } from 'vitest';
import { newSignInRow, signInRowsOf, signInsOf } from '../../../src/renderer/lib/proxy-sign-ins.ts';
import { ProxySettingsSchema } from '#contract/proxy';

describe('Proxy sign-in rows in Network settings', () => {
  it('shows saved sign-ins without passwords, each row with its own id', () => {
    const rows = signInRowsOf([
      { proxy: 'proxy.hospital.example:3128', username: 'ward7' },
      { proxy: '10.0.0.8:8080', username: 'svc' },
    ]);
    expect(rows.map(({ proxy, username, password }) => ({ proxy, username, password }))).toEqual([
      { proxy: 'proxy.hospital.example:3128', username: 'ward7', password: '' },
      { proxy: '10.0.0.8:8080', username: 'svc', password: '' },
    ]);
    expect(new Set([...rows, newSignInRow()].map((r) => r.id)).size).toBe(3);
    expect(signInRowsOf(undefined)).toEqual([]);
  });

  it('saves the filled rows trimmed, sends only typed passwords, and drops blank rows', () => {
    const rows = [
      { ...newSignInRow(), proxy: ' proxy.hospital.example:3128 ', username: ' ward7 ', password: 'typed' },
      { ...newSignInRow(), proxy: '10.0.0.8:8080', username: 'svc' },
      newSignInRow(),
    ];
    const { signIns, passwords } = signInsOf(rows);
    expect(signIns).toEqual([
      { proxy: 'proxy.hospital.example:3128', username: 'ward7' },
      { proxy: '10.0.0.8:8080', username: 'svc' },
    ]);
    // the second keeps the password already in the vault
    expect(passwords).toEqual({ 'proxy.hospital.example:3128': 'typed' });
    expect(ProxySettingsSchema.safeParse({ mode: 'system', signIns }).success).toBe(true);
  });

  it('leaves a half-filled row for the settings schema to refuse, naming what is wrong', () => {
    const { signIns } = signInsOf([{ ...newSignInRow(), proxy: 'proxy.hospital.example', username: 'ward7' }]);
    const parsed = ProxySettingsSchema.safeParse({ mode: 'pac', pacUrl: 'http://wpad.example/proxy.pac', signIns });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['signIns', 0, 'proxy'], message: expect.stringContaining('write the proxy as host:port') });
    const twice = ProxySettingsSchema.safeParse({ mode: 'system', signIns: [{ proxy: 'a.example:1', username: 'x' }, { proxy: 'A.example:1', username: 'y' }] });
    expect(twice.error?.issues[0]?.message).toBe('each proxy has one sign-in');
  });
});
