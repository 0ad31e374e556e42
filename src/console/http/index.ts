import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../gateway.ts';
import { registerAppRoutes } from './app-routes.ts';
import { registerOperatorRoutes } from './operator-routes.ts';
import { registerIsvRoutes } from './isv-routes.ts';
import { registerOrderRoutes } from './order-routes.ts';
import { registerPassageRoutes } from './passage-routes.ts';
import { type RealmSettings, registerRealm } from './realm.ts';
import { registerSessionRoutes } from './session-routes.ts';
import { registerConsolePages } from './static.ts';

export const OPERATOR_API = '/console/api';
export const MERCHANT_API = '/merchant/api';

/** Operator console (/console/) and merchant console (/merchant/): pages and their session-protected JSON APIs. */
export async function registerConsole(app: FastifyInstance, gw: Gateway): Promise<void> {
  const common = { secureCookies: gw.config.publicUrl.startsWith('https:'), publicOrigin: new URL(gw.config.publicUrl).origin, accounts: gw.consoleAccounts };
  const operator: RealmSettings = { ...common, realm: 'operator', prefix: OPERATOR_API, cookieName: 'polypay_op' };
  const merchant: RealmSettings = { ...common, realm: 'merchant', prefix: MERCHANT_API, cookieName: 'polypay_mch' };
  await registerRealm(app, operator, (api) => {
    registerSessionRoutes(api, operator);
    registerAppRoutes(api, gw, operator);
    registerOrderRoutes(api, gw, operator);
    registerOperatorRoutes(api, gw, operator);
    registerIsvRoutes(api, gw);
    registerPassageRoutes(api, gw, operator);
  });
  await registerRealm(app, merchant, (api) => {
    registerSessionRoutes(api, merchant);
    registerAppRoutes(api, gw, merchant);
    registerOrderRoutes(api, gw, merchant);
    registerPassageRoutes(api, gw, merchant);
  });
  await registerConsolePages(app);
}
