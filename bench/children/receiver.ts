import { createServer } from 'node:http';
import { verifySignature } from '../../src/merchant-api/sign.ts';

/**
 * The merchant's notify endpoint: a bare node:http server in its own process that checks the
 * notification's MD5 sign (like a merchant would), answers SUCCESS and records when each one arrived.
 * GET /stats → {count, distinct, badSign, firstMs, lastMs} (epoch ms, sub-ms precision).
 */
const secret = process.env.RECEIVER_APP_SECRET ?? '';
let count = 0;
let badSign = 0;
let firstMs = 0;
let lastMs = 0;
const seen = new Set<string>();
const now = () => performance.timeOrigin + performance.now();

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ count, distinct: seen.size, badSign, firstMs, lastMs }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const t = now();
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const { sign, ...fields } = form;
    if (!sign || !verifySignature(fields, secret, 'MD5', sign)) badSign += 1;
    count += 1;
    seen.add(form.payOrderId ?? `#${count}`);
    if (firstMs === 0) firstMs = t;
    lastMs = t;
    res.end('SUCCESS');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.RECEIVER_PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
