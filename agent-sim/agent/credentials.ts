import { join } from 'node:path';
import { chmodSync } from 'node:fs';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '#node-lib/files';

/** What enrollment gave the agent. Stored owner-only (0600); the key never leaves the device. */
export const AgentCredentialsSchema = z.object({
  deviceId: z.string(),
  serial: z.string(),
  modelId: z.string(),
  certificatePem: z.string(),
  privateKeyPem: z.string(),
  deviceSecret: z.string(),
  serverUrl: z.string(),
  enrolledAt: z.string(),
  /**
   * The server's grant key (SPKI PEM), pinned at enrollment: session grants are verified
   * against it only. Absent in credentials from before sessions existed; such an agent
   * refuses every privileged command until it is enrolled again.
   */
  grantPublicKeyPem: z.string().optional(),
});
export type AgentCredentials = z.infer<typeof AgentCredentialsSchema>;

export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'credentials.json');
}

export function loadCredentials(dataDir: string): AgentCredentials | undefined {
  const text = readFileIfExists(credentialsPath(dataDir));
  if (!text) return undefined;
  const parsed = AgentCredentialsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`credentials file ${credentialsPath(dataDir)} is damaged; re-enroll the device`);
  // Tighten permissions if someone loosened them.
  chmodSync(credentialsPath(dataDir), 0o600);
  return parsed.data;
}

export function saveCredentials(dataDir: string, credentials: AgentCredentials): void {
  writeFileAtomic(credentialsPath(dataDir), JSON.stringify(credentials, null, 2), 0o600);
}
