import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Gateway } from '../gateway.ts';
import { ApiError } from '../domain/errors.ts';
import { type ClientResult, clientView, isOpen } from '../services/confirmations.ts';
import { getPayOrder } from '../services/order-store.ts';
import { errorBody } from './envelope.ts';

const TAG = ['Payer client'];
const ConfirmBody = Type.Object({
  payOrderId: Type.String({ minLength: 1, maxLength: 32 }),
  clientToken: Type.String({ minLength: 1, maxLength: 64, description: 'clientToken from the unified-order answer, passed on by the merchant' }),
  result: Type.Union([Type.Literal('ok'), Type.Literal('cancel'), Type.Literal('fail')], { description: 'what wx.requestPayment / getBrandWCPayRequest reported' }),
});
const POLL_MS = 1000;
const HEARTBEAT_MS = 15_000;
const MAX_STREAM_MS = 10 * 60_000;

/**
 * Endpoints a payer's client (mini program, H5 page) may call with the order's clientToken:
 * report the requestPayment result, and wait for the final state over Server-Sent Events.
 * Open to any origin (CORS *): the token, not the origin, is the credential.
 */
export function registerClientRoutes(app: FastifyInstance, gw: Gateway): void {
  const cors = (reply: FastifyReply) => reply.header('access-control-allow-origin', '*');
  const load = async (payOrderId: string, token: string) => {
    if (!gw.confirmations.verifyToken(payOrderId, token)) throw new ApiError('SIGN_INVALID', 'clientToken does not match the order');
    const order = await getPayOrder(gw.db, payOrderId);
    if (!order) throw new ApiError('ORDER_NOT_FOUND', payOrderId);
    return order;
  };

  app.options('/api/pay/client/*', { schema: { hide: true } }, async (_req, reply) =>
    cors(reply).header('access-control-allow-methods', 'GET, POST').header('access-control-allow-headers', 'content-type').status(204).send());

  app.post<{ Body: Static<typeof ConfirmBody> }>('/api/pay/client/confirm', {
    schema: { tags: TAG, summary: 'Report the payer-side payment result (seed 004); "ok" triggers an immediate channel query', body: ConfirmBody },
  }, async (req, reply) => {
    cors(reply);
    const order = await load(req.body.payOrderId, req.body.clientToken);
    const after = await gw.confirmations.report(order, req.body.result as ClientResult, 'client');
    return { code: 0, msg: 'SUCCESS', data: clientView(after) };
  });

  app.get<{ Params: { payOrderId: string }; Querystring: { token?: string } }>('/api/pay/client/events/:payOrderId', {
    schema: { tags: TAG, summary: 'Server-Sent Events: the order state now and at every change until it is final' },
  }, async (req, reply) => {
    let order;
    try {
      order = await load(req.params.payOrderId, req.query.token ?? '');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return cors(reply).status(err.key === 'ORDER_NOT_FOUND' ? 404 : 403).send(errorBody(err.key, err.message));
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'access-control-allow-origin': '*', 'x-accel-buffering': 'no' });
    let last = '';
    let closed = false;
    let busy = false;
    let again = false;
    const push = async (): Promise<void> => {
      if (closed) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        const current = await getPayOrder(gw.db, req.params.payOrderId);
        if (!current || closed) return;
        const view = JSON.stringify(clientView(current));
        if (view !== last) {
          last = view;
          res.write(`event: order\ndata: ${view}\n\n`);
        }
        if (!isOpen(current)) finish();
      } catch {
        // The database is briefly unreachable: the next tick retries; the client keeps waiting.
      } finally {
        busy = false;
        if (again && !closed) {
          again = false;
          void push();
        }
      }
    };
    const unsubscribe = gw.watch.subscribe(req.params.payOrderId, () => void push());
    const poll = setInterval(() => void push(), POLL_MS);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const lifetime = setTimeout(() => finish(), MAX_STREAM_MS);
    function finish(): void {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(poll);
      clearInterval(heartbeat);
      clearTimeout(lifetime);
      res.end();
    }
    req.raw.on('close', finish);
    void order;
    await push();
  });
}
