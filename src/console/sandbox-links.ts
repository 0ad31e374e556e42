import type { ChannelConfig } from '../channels/types.ts';

/**
 * Where the sandbox payer pays a given order, when the app's channel is configured against a
 * simulator (its base URL is not the channel's production host). Real channels have no such
 * page: the payer pays in the app, so the answer is null. One entry per channel; a channel built
 * later adds its own line.
 */
type PayerLink = (config: ChannelConfig, payDataType: string, payData: string) => string | null;

function httpOrigin(value: string | undefined): string | null {
  if (!value) return null;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

function underOrigin(url: string, origin: string | null): string | null {
  return origin !== null && httpOrigin(url) === origin ? url : null;
}

const PRODUCTION_HOSTS = /(^|\.)(weixin\.qq\.com|alipay\.com|alipaydev\.com)$/;

function sandboxOrigin(url: string | undefined): string | null {
  const origin = httpOrigin(url);
  return origin && !PRODUCTION_HOSTS.test(new URL(origin).hostname) ? origin : null;
}

const LINKS: Record<string, PayerLink> = {
  // A cashier link is itself the payer's page (on a desktop it offers to emulate a payer app in the sandbox).
  cashier: (_config, type, data) => (type === 'payurl' ? data : null),
  wxpay: (config, type, data) => {
    const origin = sandboxOrigin(config.params.baseUrl);
    if (!origin) return null;
    if (type === 'codeUrl') return `${origin}/sandbox/scan?code_url=${encodeURIComponent(data)}`;
    if (type === 'payurl') return underOrigin(data, origin);
    if (type === 'wxapp') {
      try {
        const pkg = (JSON.parse(data) as { package?: string }).package ?? '';
        const prepayId = /^prepay_id=(.+)$/.exec(pkg)?.[1];
        return prepayId ? `${origin}/sandbox/h5?prepay_id=${encodeURIComponent(prepayId)}` : null;
      } catch {
        return null;
      }
    }
    return null;
  },
  alipay: (config, type, data) => {
    const origin = sandboxOrigin(config.params.gatewayUrl);
    return type === 'codeUrl' || type === 'payurl' ? underOrigin(data, origin) : null;
  },
};

export function sandboxPayerLink(ifCode: string, config: ChannelConfig | null, payDataType: string | undefined, payData: string | undefined): string | null {
  const link = LINKS[ifCode];
  if (!link || !config || !payDataType || !payData) return null;
  return link(config, payDataType, payData);
}
