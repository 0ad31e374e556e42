// The bare-route ceiling: Fastify with no plugins, no logging, one JSON route. Run in its own
// process and loaded with the same tool, connections and body size as the gateway phases.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/api/pay/unifiedOrder', async (req) => ({ code: 0, msg: 'SUCCESS', data: { payOrderId: 'P0000000000000000000', mchOrderNo: req.body?.mchOrderNo ?? '', orderState: 1 }, sign: '0'.repeat(32) }));
await app.listen({ port: Number(process.env.BARE_PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
