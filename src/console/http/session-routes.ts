import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { ApiError } from '../../domain/errors.ts';
import type { ConsoleSession } from '../accounts.ts';
import { ROLES, type Role } from '../rbac.ts';
import { type RealmSettings, sessionOf, setSessionCookie } from './realm.ts';

const SignInBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) });
const PasswordBody = Type.Object({ currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Type.String({ minLength: 1, maxLength: 256 }) });
const NewUserBody = Type.Object({ username: Type.String({ minLength: 2, maxLength: 64 }), role: Type.Union(ROLES.map((r) => Type.Literal(r))) });
const UserPatch = Type.Object({ role: Type.Optional(Type.Union(ROLES.map((r) => Type.Literal(r)))), state: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })) });
const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) });

export function sessionView(realm: string, session: ConsoleSession): Record<string, unknown> {
  const u = session.user;
  return { realm, user: { id: u.id, username: u.username, role: u.role, mchNo: u.mchNo, lastLoginAt: u.lastLoginAt }, csrfToken: session.csrfToken };
}

/** Signing in and out, one's own password, and the realm's users (operators, or one merchant's users). */
export function registerSessionRoutes(api: FastifyInstance, s: RealmSettings): void {
  const accounts = s.accounts;

  api.post<{ Body: Static<typeof SignInBody> }>('/session', { schema: { hide: true, body: SignInBody } }, async (req, reply) => {
    const { token, session } = await accounts.signIn(s.realm, req.body.username, req.body.password);
    setSessionCookie(reply, s, token);
    return sessionView(s.realm, session);
  });
  api.get('/session', { schema: { hide: true } }, async (req) => sessionView(s.realm, sessionOf(req)));
  api.delete('/session', { schema: { hide: true } }, async (req, reply) => {
    await accounts.signOut(String(req.cookies[s.cookieName] ?? ''));
    setSessionCookie(reply, s, null);
    return { signedOut: true };
  });
  api.post<{ Body: Static<typeof PasswordBody> }>('/me/password', { schema: { hide: true, body: PasswordBody } }, async (req, reply) => {
    await accounts.changeOwnPassword(sessionOf(req).user, req.body.currentPassword, req.body.newPassword);
    setSessionCookie(reply, s, null); // every session of the user ended: sign in again with the new password
    return { changed: true };
  });

  // Operators manage operators here; a merchant admin manages the users of its own merchant.
  const scope = (req: Parameters<typeof sessionOf>[0]) => (s.realm === 'merchant' ? sessionOf(req).user.mchNo : null);
  api.get('/users', { schema: { hide: true } }, async (req) => ({ users: await accounts.listUsers(s.realm, scope(req)) }));
  api.post<{ Body: Static<typeof NewUserBody> }>('/users', { schema: { hide: true, body: NewUserBody } }, async (req) => {
    const { user, password } = await accounts.createUser({ realm: s.realm, username: req.body.username, role: req.body.role as Role, mchNo: scope(req) });
    return { user, password };
  });
  api.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UserPatch> }>('/users/:id', { schema: { hide: true, params: IdParams, body: UserPatch } }, async (req) => {
    const id = Number(req.params.id);
    if (id === sessionOf(req).user.id && req.body.state === 0) throw new ApiError('PARAM_INVALID', 'you cannot disable yourself');
    return { user: await accounts.updateUser(s.realm, id, { role: req.body.role as Role | undefined, state: req.body.state }, scope(req)) };
  });
  api.post<{ Params: Static<typeof IdParams> }>('/users/:id/password', { schema: { hide: true, params: IdParams } }, async (req) => {
    return { password: await accounts.resetPassword(s.realm, Number(req.params.id), scope(req)) };
  });
}
