/**
 * Who may call which console API route: the one table, checked on the server for every request
 * (Jeepay's role annotations were never evaluated, jeepay.md §8 #113). A console route that is
 * not in this table cannot be registered (src/console/http/realm.ts throws at start), and
 * src/console/rbac.test.ts walks every registered route and proves each role outside its list
 * is refused.
 *
 * Keys are "METHOD path" relative to the realm's API prefix (/console/api, /merchant/api).
 * 'public' routes need no session (signing in). Merchant users see only their own merchant's
 * data whatever their role; roles only limit what they may change.
 */

export const ROLES = ['admin', 'operations', 'readonly'] as const;
export type Role = (typeof ROLES)[number];
export type Realm = 'operator' | 'merchant';
export type RouteRoles = readonly Role[] | 'public';

const ALL: readonly Role[] = ROLES;
const OPS: readonly Role[] = ['admin', 'operations'];
const ADMIN: readonly Role[] = ['admin'];

/** Routes both realms have, with the same roles. */
const COMMON: Record<string, RouteRoles> = {
  'POST /session': 'public',
  'GET /session': ALL,
  'DELETE /session': ALL,
  'POST /me/password': ALL,
  'GET /dashboard': ALL,
  'GET /channels': ALL,
  'GET /apps': ALL,
  'GET /apps/:appId/channels': ALL,
  'POST /apps/:appId/secret': ADMIN,
  'GET /orders': ALL,
  'GET /orders/:payOrderId': ALL,
  'POST /orders/:payOrderId/sync': OPS,
  'POST /orders/:payOrderId/refunds': OPS,
  'GET /refunds': ALL,
  'GET /notifications': ALL,
  'POST /notifications/:id/resend': OPS,
  'POST /pay-test': OPS,
  'GET /users': ADMIN,
  'POST /users': ADMIN,
  'PATCH /users/:id': ADMIN,
  'POST /users/:id/password': ADMIN,
  'GET /sandbox': ALL,
  // Pay passages: merchant users only read them (their own apps); operators with OPS change them.
  'GET /apps/:appId/passages': ALL,
};

export const ROUTE_ROLES: Record<Realm, Readonly<Record<string, RouteRoles>>> = {
  operator: {
    ...COMMON,
    'GET /merchants': ALL,
    'POST /merchants': ADMIN,
    'PATCH /merchants/:mchNo': ADMIN,
    'POST /merchants/:mchNo/apps': ADMIN,
    'GET /merchants/:mchNo/users': ADMIN,
    'POST /merchants/:mchNo/users': ADMIN,
    'PATCH /apps/:appId': ADMIN,
    'PUT /apps/:appId/channels/:ifCode': ADMIN,
    'POST /apps/:appId/channels/:ifCode/sandbox-keys': ADMIN,
    'GET /audit': ADMIN,
    'GET /isvs': ALL,
    'PUT /isvs/:isvNo/channels/:ifCode': ADMIN,
    'POST /isvs/:isvNo/merchants': ADMIN,
    'POST /apps/:appId/alipay/app-auth': ADMIN,
    'POST /apps/:appId/passages': OPS,
    'PUT /apps/:appId/passages/:passageId': OPS,
    'DELETE /apps/:appId/passages/:passageId': OPS,
  },
  merchant: {
    ...COMMON,
  },
};

export function rolesFor(realm: Realm, method: string, path: string): RouteRoles | undefined {
  return ROUTE_ROLES[realm][`${method.toUpperCase()} ${path}`];
}
