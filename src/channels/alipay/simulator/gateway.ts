import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { responseKey, rsa2Sign } from '../sign.ts';
import { actingApp } from './app-auth.ts';
import { AlipayError, ErrorResponse, codeMsg, signerFor, type SimContext } from './context.ts';
import { METHODS, PAGE_METHODS } from './methods.ts';
import { errorPage } from './pages.ts';
import { UnsignedError, isKnownMethod, openClientTrade, verifyRequest } from './verify.ts';
import type { AppRecord } from './types.ts';

/**
 * `/gateway.do` (GET and POST). Server-side methods answer JSON in Alipay's exact layout
 * `{"<method>_response":{…},"sign":"…"}` — plus `"alipay_cert_sn"` for certificate-mode apps —
 * signed over the exact text of the `…_response` value as sent (protocols.md §C.3, §G: emit once,
 * sign those bytes). Slashes are escaped as `\/` like Alipay does, so a client that re-serialises
 * before verifying fails here as it would in production. page.pay / wap.pay open the cashier.
 */

export function gatewayParams(req: FastifyRequest): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) if (typeof v === 'string') params[k] = v;
  const ct = req.headers['content-type'] ?? '';
  // SDKs put the common parameters in the query and biz_content in the form body (§C.1); both count.
  if (typeof req.body === 'string' && req.body !== '' && (ct === '' || ct.startsWith('application/x-www-form-urlencoded'))) {
    for (const [k, v] of new URLSearchParams(req.body)) params[k] = v;
  }
  return params;
}

/** Renders and signs one answer. `fields` start with code/msg (and sub_code/sub_msg on errors). */
export function answerBody(ctx: SimContext, method: string | undefined, app: AppRecord | undefined, fields: Record<string, unknown>, signed = true, errorResponse = false): string {
  const key = method !== undefined && isKnownMethod(method) && !errorResponse ? responseKey(method) : 'error_response';
  const json = JSON.stringify(fields).replace(/\//g, '\\/');
  if (!signed) return `{"${key}":${json}}`;
  const signer = signerFor(ctx, app);
  const sign = rsa2Sign(ctx.faults.badResponseSignature ? `${json} ` : json, signer.key);
  return `{"${key}":${json}${signer.certSn ? `,"alipay_cert_sn":"${signer.certSn}"` : ''},"sign":"${sign}"}`;
}

export function errorFields(e: AlipayError): Record<string, unknown> {
  return { code: e.code, msg: codeMsg(e.code), sub_code: e.subCode, sub_msg: e.subMsg, ...e.extra };
}

async function send(ctx: SimContext, reply: FastifyReply, body: string): Promise<FastifyReply> {
  if (ctx.faults.responseDelayMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.responseDelayMs));
  // JSON, not Alipay's text/html: a reflected sub_msg must never render as markup in a browser.
  return reply.code(200).header('Cache-Control', 'no-store').type('application/json;charset=utf-8').send(body);
}

export function handleGateway(ctx: SimContext, params: Record<string, string>): string {
  const method = params.method;
  const app = params.app_id ? ctx.state.apps.get(params.app_id) : undefined;
  try {
    const v = verifyRequest(ctx, params);
    const handler = METHODS[v.method];
    if (!handler) throw new AlipayError('40002', 'isv.invalid-method', `${v.method} 不支持服务端调用`);
    if (ctx.faults.failNextRequests > 0) {
      ctx.faults.failNextRequests -= 1;
      throw new AlipayError('20000', 'ACQ.SYSTEM_ERROR', '系统错误');
    }
    const acting = actingApp(ctx, v.app, v.method, params);
    const result = handler(ctx, { app: acting.app, caller: v.app, biz: v.biz, params });
    const { code, ...rest } = result;
    const c = typeof code === 'string' ? code : '10000';
    ctx.log.debug({ appId: v.app.appId, method: v.method, code: c }, 'gateway call');
    return answerBody(ctx, method, v.app, { code: c, msg: codeMsg(c), ...rest });
  } catch (err) {
    if (!(err instanceof AlipayError)) throw err;
    ctx.log.info({ appId: params.app_id, method, code: err.code, subCode: err.subCode }, 'gateway call refused');
    return answerBody(ctx, method, app, errorFields(err), !(err instanceof UnsignedError), err instanceof ErrorResponse);
  }
}

export function registerGatewayRoutes(app: FastifyInstance, ctx: SimContext): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const params = gatewayParams(req);
    if (params.method !== undefined && PAGE_METHODS.has(params.method)) {
      try {
        const t = openClientTrade(ctx, params, 'page');
        return reply.code(303).header('Location', `/sandbox/cashier/${encodeURIComponent(t.trade_no as string)}`).send();
      } catch (err) {
        if (!(err instanceof AlipayError)) throw err;
        ctx.log.info({ appId: params.app_id, method: params.method, subCode: err.subCode }, 'cashier request refused');
        return errorPage(reply, err);
      }
    }
    return send(ctx, reply, handleGateway(ctx, params));
  };
  app.get('/gateway.do', handler);
  app.post('/gateway.do', handler);
}
