import { yuan } from './format.ts';

/**
 * The routing decision on an order's timeline, in words (docs/routing.md). The server writes why a
 * passage was skipped in English (src/domain/routing.ts, src/services/router.ts); these patterns
 * give the same sentence in Chinese, with amounts in yuan. A reason no pattern knows is shown as sent.
 */
type Lang = 'zh' | 'en';

const REASONS: Array<[RegExp, (m: RegExpExecArray) => [string, string]]> = [
  [/^passage disabled$/, () => ['通道已停用', 'passage disabled']],
  [/^amount (\d+) below the passage minimum (\d+)$/, (m) => [`金额 ¥${yuan(Number(m[1]))} 低于单笔最低 ¥${yuan(Number(m[2]))}`, `amount ¥${yuan(Number(m[1]))} below the per-order minimum ¥${yuan(Number(m[2]))}`]],
  [/^amount (\d+) above the passage maximum (\d+)$/, (m) => [`金额 ¥${yuan(Number(m[1]))} 高于单笔最高 ¥${yuan(Number(m[2]))}`, `amount ¥${yuan(Number(m[1]))} above the per-order maximum ¥${yuan(Number(m[2]))}`]],
  [/^outside the passage's time window$/, () => ['不在通道的开放时段内', "outside the passage's time window"]],
  [/^circuit breaker open after repeated channel failures$/, () => ['渠道连续故障，熔断中', 'circuit breaker open after repeated channel failures']],
  [/^channel (\S+) is not installed$/, (m) => [`渠道 ${m[1]} 未安装`, `channel ${m[1]} is not installed`]],
  [/^channel (\S+) is not configured for this app$/, (m) => [`此应用未配置渠道 ${m[1]}`, `channel ${m[1]} is not configured for this app`]],
  [/^daily limit (\d+) reached$/, (m) => [`已达日限额 ¥${yuan(Number(m[1]))}`, `daily limit ¥${yuan(Number(m[1]))} reached`]],
];

/** Why routing left a passage out, in the page's language; null when the reason is not one routing writes. */
export function knownSkipReason(reason: string, lang: Lang): string | null {
  for (const [pattern, text] of REASONS) {
    const m = pattern.exec(reason);
    if (m) return text(m)[lang === 'zh' ? 0 : 1];
  }
  return null;
}

export function skipReason(reason: string, lang: Lang): string {
  return knownSkipReason(reason, lang) ?? reason;
}

/** The channel faults that allow failover (docs/routing.md "Failover"). */
const FAULTS: Record<string, [string, string]> = {
  unavailable: ['渠道不可达（未发出请求）', 'channel unreachable (nothing sent)'],
  misconfigured: ['渠道配置不可用（未发出请求）', 'channel configuration unusable (nothing sent)'],
  system: ['渠道系统繁忙（未到达付款人）', 'channel system error (nothing reached the payer)'],
};

export function faultText(kind: string, lang: Lang): string {
  return FAULTS[kind]?.[lang === 'zh' ? 0 : 1] ?? kind;
}
