import { z } from 'zod';
import { CreateUserRequestSchema, LoginRequestSchema, LoginResponseSchema, LogoutRequestSchema, RefreshRequestSchema, TokenPairSchema, UserSchema } from '../../api/auth.ts';
import { ANYONE, jsonRoute, userWith } from '../route.ts';
import { itemsOf } from './params.ts';

/** Sign-in, tokens, the signed-in user, and technician accounts. */
export const AUTH_ROUTES = {
  'auth.login': jsonRoute({
    method: 'POST', path: '/auth/login', tags: ['auth'], summary: 'Sign in with username and password',
    caller: ANYONE, body: LoginRequestSchema, status: 200, response: LoginResponseSchema, errors: [400, 401, 403, 423, 429],
  }),
  'auth.refresh': jsonRoute({
    method: 'POST', path: '/auth/refresh', tags: ['auth'], summary: 'Exchange a refresh token for a new token pair (the old one is spent)',
    caller: ANYONE, body: RefreshRequestSchema, status: 200, response: TokenPairSchema, errors: [400, 401, 429],
  }),
  'auth.logout': jsonRoute({
    method: 'POST', path: '/auth/logout', tags: ['auth'], summary: 'End this login session',
    caller: userWith('view'), body: LogoutRequestSchema.optional(), status: 204, response: z.null(), errors: [401],
  }),
  'auth.me': jsonRoute({
    method: 'GET', path: '/me', tags: ['auth'], summary: 'The signed-in user',
    caller: userWith('view'), status: 200, response: UserSchema, errors: [401],
  }),
  'users.list': jsonRoute({
    method: 'GET', path: '/users', tags: ['admin'], summary: 'All technician accounts',
    caller: userWith('admin'), status: 200, response: itemsOf(UserSchema), errors: [401, 403],
  }),
  'users.create': jsonRoute({
    method: 'POST', path: '/users', tags: ['admin'], summary: 'Create a technician account',
    caller: userWith('admin'), body: CreateUserRequestSchema, status: 201, response: UserSchema, errors: [400, 401, 403, 409],
  }),
} as const;
