import { Tag, Typography } from 'antd';
import { JsonBlock } from '../components.tsx';
import { percentOfPpm, yuan } from '../format.ts';
import { useT } from '../i18n.tsx';
import { faultText, skipReason } from '../route-text.ts';

/** What routing wrote on the timeline (src/services/router.ts RouteDecision). */
interface RouteDecision {
  passageId: number;
  ifCode: string;
  priority: number;
  weight: number;
  feeRatePpm: number;
  next: number[];
  skipped: Array<{ passageId: number; ifCode: string; reason: string }>;
}

const isRoute = (v: unknown): v is RouteDecision => typeof v === 'object' && v !== null && typeof (v as RouteDecision).passageId === 'number';

function Route({ route }: { route: RouteDecision }) {
  const { t, lang } = useT();
  return (
    <div data-testid="route">
      <div data-testid="route-chosen">
        <Typography.Text type="secondary">{t('routeChosen')}</Typography.Text> <Tag color="blue">{route.ifCode} #{route.passageId}</Tag>
        {t('priority')} {route.priority} · {t('weight')} {route.weight} · {t('feeRate')} {percentOfPpm(route.feeRatePpm ?? 0)}%
      </div>
      {(route.next ?? []).length > 0 && (
        <div>
          <Typography.Text type="secondary">{t('routeNext')}</Typography.Text> {route.next.map((id) => `#${id}`).join(', ')}
        </div>
      )}
      {(route.skipped ?? []).length > 0 && (
        <div data-testid="route-skipped">
          <Typography.Text type="secondary">{t('routeSkipped')}</Typography.Text>
          <ul style={{ margin: 0, paddingLeft: 20 }}>
            {route.skipped.map((s) => (
              <li key={s.passageId}>{s.ifCode} #{s.passageId} — {skipReason(s.reason, lang)}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/**
 * One timeline event's detail: a routing decision (`created`, `cashier`) and a failover
 * (`rerouted`: the passage left, the fault, the new route) in words; anything else as before.
 */
export function EventDetail({ detail }: { detail: Record<string, unknown> }) {
  const { t, lang } = useT();
  const { route, from, fault, ...rest } = detail ?? {};
  if (!isRoute(route)) return <JsonBlock value={detail} />;
  const left = from as { ifCode?: string; passageId?: number } | undefined;
  const why = fault as { kind?: string; code?: string | null; message?: string } | undefined;
  return (
    <div style={{ fontSize: 13 }}>
      {left && (
        <div data-testid="rerouted-from">
          <Typography.Text type="secondary">{t('reroutedFrom')}</Typography.Text> <Tag color="orange">{left.ifCode} #{left.passageId}</Tag>{' '}
          {why && <span><Typography.Text type="secondary">{t('fault')}</Typography.Text> {faultText(String(why.kind), lang)}{why.code ? ` (${why.code})` : ''}{why.message ? `: ${why.message}` : ''}</span>}
        </div>
      )}
      <Route route={route} />
      {Object.keys(rest).length > 0 && (
        <Typography.Text type="secondary">
          {Object.entries(rest).map(([k, v]) => (k === 'amount' && typeof v === 'number' ? `${t('amount')} ¥${yuan(v)}` : `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)).join(' · ')}
        </Typography.Text>
      )}
    </div>
  );
}
