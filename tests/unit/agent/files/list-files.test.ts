import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDeviceFiles } from '../../../../agent-sim/agent/files/device-files.ts';
import { registerFileHandlers } from '../../../../agent-sim/agent/handlers.ts';
import { LocalAuditFile, type LocalAuditEntry } from '../../../../agent-sim/agent/local-audit.ts';
import { FILE_COMMANDS } from '#contract/protocol/files';
import { CommandUpdateSchema } from '#contract/protocol/poll';
import { waitFor } from '../../../helpers/wait.ts';
import { type SessionRig, diagnostic, rigsForEachTest, signGrant } from '../session-harness.ts';

const fixture = rigsForEachTest();

/**
 * The `list-files` command through the agent's real CommandExecutor: the grant checked by
 * the executor (scope `files`), the path by DeviceFiles. The agent gives both the same
 * local audit file; here DeviceFiles writes its own, read back by `fileAudit`.
 */
function rigWithFiles(): SessionRig & { fileAudit: () => LocalAuditEntry[] } {
  const rig = fixture.rig();
  const filesDir = path.join(rig.dir, 'device-files');
  fs.mkdirSync(path.join(filesDir, 'logs', 'archive'), { recursive: true });
  fs.mkdirSync(path.join(filesDir, 'config'));
  fs.writeFileSync(path.join(filesDir, 'logs', 'system.log'), 'boot ok\n');
  const auditPath = path.join(rig.dir, 'files-audit.jsonl');
  const audit = new LocalAuditFile(auditPath);
  const close = rig.close;
  rig.close = async () => {
    await close();
    audit.close();
  };
  registerFileHandlers(rig.executor, createDeviceFiles({ filesDir, modelId: 'stellant-flex', audit }));
  const fileAudit = () => fs.readFileSync(auditPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LocalAuditEntry);
  return Object.assign(rig, { fileAudit });
}

const listFiles = (id: string, grant: string | undefined, params: Record<string, unknown>) => diagnostic(id, grant, { name: 'list-files', params });

describe('list-files on the agent', () => {
  it('lists a folder under a valid grant with the files scope: folders first, schema-valid result', async () => {
    const r = rigWithFiles();
    await r.executor.accept([listFiles('cmd-list', await signGrant(fixture.keys().server, { scopes: ['files'] }), { path: '/logs' })]);
    await waitFor(() => r.last('cmd-list')?.state === 'succeeded', { timeoutMs: 5000, what: 'list-files succeeded' });

    for (const update of r.updates) expect(CommandUpdateSchema.safeParse(update).success).toBe(true);
    const result = FILE_COMMANDS['list-files'].result.parse(r.last('cmd-list')?.result);
    expect(result.path).toBe('/logs');
    expect(result.entries.map((e) => [e.name, e.type, e.size])).toEqual([['archive', 'directory', 0], ['system.log', 'file', 8]]);
    expect(r.audit().find((e) => e.action === 'command.start')?.detail).toMatchObject({ name: 'list-files', params: { path: '/logs' } });
  });

  it('lists the device\'s roots when no path is given', async () => {
    const r = rigWithFiles();
    await r.executor.accept([listFiles('cmd-roots', await signGrant(fixture.keys().server, { scopes: ['files'] }), {})]);
    await waitFor(() => r.last('cmd-roots')?.state === 'succeeded', { timeoutMs: 5000, what: 'list-files succeeded' });
    const result = FILE_COMMANDS['list-files'].result.parse(r.last('cmd-roots')?.result);
    expect(result).toMatchObject({ path: '/', entries: [{ path: '/config', type: 'directory' }, { path: '/logs', type: 'directory' }] });
  });

  it('is refused without the files scope: GRANT_INVALID, audited, and the folder is never read', async () => {
    const r = rigWithFiles();
    await r.executor.accept([listFiles('cmd-noscope', await signGrant(fixture.keys().server, { scopes: ['diagnose'] }), { path: '/logs' })]);

    expect(r.statesOf('cmd-noscope')).toEqual(['failed']);
    expect(r.last('cmd-noscope')?.error).toMatchObject({ code: 'GRANT_INVALID', message: expect.stringMatching(/lacks the "files" scope/) });
    expect(r.audit().find((e) => e.action === 'command.refused')).toMatchObject({ outcome: 'denied', detail: { name: 'list-files', grantCheck: 'missing-scope' } });
    expect(r.audit().some((e) => e.action === 'command.start')).toBe(false);
    expect(r.fileAudit()).toEqual([]);
  });

  it('fails with the refusal\'s code for a path outside the roots, audited as a file refusal and as the command\'s end', async () => {
    const r = rigWithFiles();
    await r.executor.accept([listFiles('cmd-escape', await signGrant(fixture.keys().server, { scopes: ['files'] }), { path: '/logs/../../etc' })]);
    await waitFor(() => r.last('cmd-escape')?.state === 'failed', { timeoutMs: 5000, what: 'list-files failed' });

    expect(r.last('cmd-escape')?.error).toMatchObject({ code: 'PATH_NOT_ALLOWED', message: expect.stringMatching(/"\.\."/) });
    expect(r.fileAudit()).toMatchObject([{ action: 'files.refused', outcome: 'denied', detail: { operation: 'list', path: '/logs/../../etc', code: 'PATH_NOT_ALLOWED' } }]);
    expect(r.audit().find((e) => e.action === 'command.end')?.detail).toMatchObject({ name: 'list-files', state: 'failed', error: 'PATH_NOT_ALLOWED' });
  });
});
