import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Gateway } from '../gateway.ts';
import { adminGuard } from './admin-guard.ts';

/** Operator API for fund-flow bills (资金账单): fetch, verify, parse and store one account's day; read a stored one. */

const FetchBody = Type.Object({
  date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'yyyy-MM-dd (China time)' }),
  accountType: Type.Optional(Type.String({ pattern: '^[A-Z_]{1,32}$', description: 'BASIC (default), OPERATION or FEES' })),
});

export function registerFundFlowRoutes(app: FastifyInstance, gw: Gateway): void {
  const TAG = ['Admin'];
  const security = [{ adminToken: [] }];
  app.register(async (admin) => {
    admin.addHook('onRequest', adminGuard(gw.config.adminToken));
    admin.post<{ Params: { appId: string; ifCode: string }; Body: Static<typeof FetchBody> }>(
      '/apps/:appId/fundflow/:ifCode',
      { schema: { tags: TAG, security, summary: 'Fetch, verify, parse and store a fund-flow bill for one day and account', body: FetchBody } },
      async (req) => gw.bills.fetchFundFlow(req.params.appId, req.params.ifCode, req.body.date, req.body.accountType ?? 'BASIC'),
    );
    admin.get<{ Params: { appId: string; ifCode: string; date: string }; Querystring: { accountType?: string } }>(
      '/apps/:appId/fundflow/:ifCode/:date',
      { schema: { tags: TAG, security, summary: 'A stored fund-flow bill with its rows' } },
      async (req) => {
        const flow = await gw.db.query<{ id: number }>(
          `SELECT * FROM channel_fund_flows WHERE app_id = $1 AND if_code = $2 AND bill_date = $3 AND account_type = $4`,
          [req.params.appId, req.params.ifCode, req.params.date, req.query.accountType ?? 'BASIC'],
        );
        const head = flow.rows[0];
        if (!head) return { bill: null, rows: [] };
        const rows = await gw.db.query(`SELECT * FROM channel_fund_flow_rows WHERE flow_id = $1 ORDER BY line_no`, [head.id]);
        return { bill: head, rows: rows.rows };
      },
    );
  }, { prefix: '/admin/v1' });
}
