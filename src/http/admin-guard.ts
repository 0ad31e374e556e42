import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../domain/errors.ts';

/** onRequest hook of operator routes: `Authorization: Bearer <POLYPAY_ADMIN_TOKEN>`, compared in constant time. */
export function adminGuard(adminToken: string): (req: FastifyRequest) => Promise<void> {
  const expected = Buffer.from(`Bearer ${adminToken}`);
  return async (req) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ApiError('UNAUTHORIZED');
  };
}
