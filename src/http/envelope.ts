import type { FastifyReply } from 'fastify';
import { ApiError, ERRORS, type ErrorKey } from '../domain/errors.ts';
import { type SignType, signParams } from '../merchant-api/sign.ts';
import { compact } from '../merchant-api/views.ts';

/** `{code:0,msg:"SUCCESS",data,sign}` — data signed with the app secret and the request's signType. */
export function ok(reply: FastifyReply, data: Record<string, unknown>, secret: string, signType: SignType): FastifyReply {
  const clean = compact(data);
  return reply.send({ code: 0, msg: 'SUCCESS', data: clean, sign: signParams(clean, secret, signType) });
}

/** Errors are unsigned (Jeepay does the same) and carry a stable `errorKey`. */
export function errorBody(key: ErrorKey, msg: string): { code: number; msg: string; errorKey: string } {
  return { code: ERRORS[key].code, msg, errorKey: key };
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  return reply.status(err.httpStatus).send(errorBody(err.key, err.message));
}
