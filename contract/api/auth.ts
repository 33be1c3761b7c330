import { z } from 'zod';

export const ROLES = ['admin', 'engineer', 'viewer'] as const;
export const RoleSchema = z.enum(ROLES);
/** admin: everything; engineer: view and act on devices in scope; viewer: view only. */
export type Role = z.infer<typeof RoleSchema>;

/** What a role may do, checked per route (contract/http); scope (which customers) is checked per record. */
export const CAPABILITIES = ['view', 'command', 'acknowledge', 'admin', 'audit'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const UsernameSchema = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" or "-"');

export const UserSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: RoleSchema,
  /** The customers this user may see; `all` for fleet-wide users. */
  customerIds: z.union([z.literal('all'), z.array(z.string())]),
});
export type User = z.infer<typeof UserSchema>;

export const LoginRequestSchema = z
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(1024),
  })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

export const TokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number().int().positive(),
});
export type TokenPair = z.infer<typeof TokenPairSchema>;

export const LoginResponseSchema = TokenPairSchema.extend({ user: UserSchema });
export type LoginResponse = z.infer<typeof LoginResponseSchema>;

export const RefreshRequestSchema = z.object({ refreshToken: z.string().min(1).max(512) }).strict();
export type RefreshRequest = z.infer<typeof RefreshRequestSchema>;

export const LogoutRequestSchema = z
  .object({ refreshToken: z.string().min(1).max(512).optional() })
  .strict();

export const CreateUserRequestSchema = z
  .object({
    username: UsernameSchema,
    displayName: z.string().min(1).max(128),
    role: RoleSchema,
    password: z.string().min(12, 'at least 12 characters').max(1024),
    customerIds: z.union([z.literal('all'), z.array(z.string().max(64)).max(1000)]),
  })
  .strict();
export type CreateUserRequest = z.infer<typeof CreateUserRequestSchema>;
