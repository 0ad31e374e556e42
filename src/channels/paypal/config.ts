import { X509Certificate } from 'node:crypto';
import { ChannelError, type ChannelConfig, type ConfigField } from '../types.ts';
import { parseChannelBaseUrl, parseTimeoutMs } from '../config-parse.ts';
import { PAYPAL_CERT_HOSTS, PAYPAL_HOSTS } from './protocol.ts';

/** PayPal configuration of one merchant app (docs/channels/paypal.md "Configuration"). */

export const paypalConfigFields: readonly ConfigField[] = [
  { name: 'clientId', label: 'Client ID', secret: false, required: true, description: 'REST app client id (developer.paypal.com → Apps & Credentials).' },
  { name: 'clientSecret', label: 'Secret', secret: true, required: true, description: 'REST app secret: exchanged for OAuth2 access tokens.' },
  { name: 'webhookId', label: 'Webhook ID', secret: false, required: true, description: 'The id PayPal gave the webhook pointing at {publicUrl}/api/pay/notify/paypal: part of every signed webhook message.' },
  { name: 'mode', label: '环境 mode', secret: false, required: false, description: 'live (api-m.paypal.com) or sandbox (api-m.sandbox.paypal.com); default live. Ignored when baseUrl is set.', options: ['live', 'sandbox'] },
  { name: 'baseUrl', label: '接口地址', secret: false, required: false, description: 'Polypay sandbox only: the simulator\'s base URL. Production: unset.' },
  { name: 'certHosts', label: '证书域名', secret: false, required: false, description: 'Extra hosts allowed in PAYPAL-CERT-URL (comma-separated), added to PayPal\'s own; https is required either way. Sandbox simulator only.' },
  { name: 'certCa', label: '证书下载CA', secret: false, required: false, description: 'Extra CA (PEM) trusted for the https download of webhook certificates. Sandbox simulator only.' },
  { name: 'timeoutMs', label: '超时(毫秒)', secret: false, required: false, description: 'Deadline of one call in milliseconds (default 10000). A call past it is "outcome unknown" and settled by a query.' },
];

export interface PaypalConfig {
  clientId: string;
  clientSecret: string;
  webhookId: string;
  apiBase: string;
  /** Lower-case host names PAYPAL-CERT-URL may name. */
  certHosts: ReadonlySet<string>;
  certCa: string | undefined;
  timeoutMs: number | undefined;
}

function misconfigured(field: string, problem: string): ChannelError {
  return new ChannelError('misconfigured', `paypal config: ${field} ${problem}`);
}

const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export function parsePaypalConfig(config: ChannelConfig): PaypalConfig {
  const { params, secrets } = config;
  const clientId = params.clientId?.trim() ?? '';
  if (!/^[\w-]{8,128}$/.test(clientId)) throw misconfigured('clientId', clientId ? 'must be 8–128 letters, digits, _ or -' : 'is required');
  const clientSecret = secrets.clientSecret?.trim() ?? '';
  if (!clientSecret) throw misconfigured('clientSecret', 'is required');
  const webhookId = params.webhookId?.trim() ?? '';
  if (!/^[\w-]{4,64}$/.test(webhookId)) throw misconfigured('webhookId', webhookId ? 'must be 4–64 letters or digits' : 'is required');
  const mode = params.mode?.trim() || 'live';
  if (mode !== 'live' && mode !== 'sandbox') throw misconfigured('mode', 'must be live or sandbox');
  const extraHosts = (params.certHosts ?? '').split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  for (const h of extraHosts) if (!HOST.test(h)) throw misconfigured('certHosts', `has a value that is not a host name: ${JSON.stringify(h)}`);
  const certCa = params.certCa?.trim() || undefined;
  if (certCa !== undefined) {
    try {
      new X509Certificate(certCa);
    } catch {
      throw misconfigured('certCa', 'is not a PEM certificate');
    }
  }
  return {
    clientId,
    clientSecret,
    webhookId,
    apiBase: params.baseUrl?.trim() ? parseChannelBaseUrl('paypal', 'baseUrl', params.baseUrl, '') : PAYPAL_HOSTS[mode],
    certHosts: new Set([...PAYPAL_CERT_HOSTS, ...extraHosts]),
    certCa,
    timeoutMs: parseTimeoutMs('paypal', params.timeoutMs),
  };
}
