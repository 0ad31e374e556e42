import { useState } from 'react';
import { Alert, Button, Card, Popconfirm, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { useNavigate, useParams } from 'react-router';
import { useConsole } from '../App.tsx';
import { clock, dateTime, percentOfBp, percentOfPpm, yuan } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { type MessageKey, useT } from '../i18n.tsx';
import type { ChannelInfo } from './ChannelForm.tsx';
import { PassageForm } from './PassageForm.tsx';

export interface Breaker { state: 'closed' | 'open' | 'half-open'; consecutiveFailures: number; openUntil: string | null; lastFailure: string | null }
export interface PassageRow {
  passageId: number; wayCode: string; ifCode: string; priority: number; weight: number; minAmount: number | null; maxAmount: number | null; dailyLimit: number | null;
  windowStart: number | null; windowEnd: number | null; feeRatePpm: number; enabled: boolean; shareBp: number | null; breaker: Breaker;
}
export interface PassagesView {
  appId: string;
  passages: PassageRow[];
  /** Channels configured for the app with the ways each declares: the only choices for a passage. */
  channels: Array<{ ifCode: string; name: string; ways: Array<{ wayCode: string; name: string }> }>;
  events: Array<{ id: number; passageId: number; kind: string; detail: { failures?: number; reason?: string; openUntil?: string }; at: string }>;
}

const BREAKER_COLORS: Record<Breaker['state'], string> = { closed: 'success', open: 'error', 'half-open': 'warning' };

/** Rows arrive sorted by way: the first row of each way spans its group, the others hide their way cell. */
function waySpans(rows: PassageRow[]): number[] {
  const spans = rows.map(() => 0);
  for (let i = 0; i < rows.length; ) {
    let j = i;
    while (j < rows.length && rows[j]?.wayCode === rows[i]?.wayCode) j++;
    spans[i] = j - i;
    i = j;
  }
  return spans;
}

function perOrder(p: PassageRow, none: string): string {
  if (p.minAmount === null && p.maxAmount === null) return none;
  if (p.maxAmount === null) return `≥ ¥${yuan(p.minAmount)}`;
  if (p.minAmount === null) return `≤ ¥${yuan(p.maxAmount)}`;
  return `¥${yuan(p.minAmount)} – ¥${yuan(p.maxAmount)}`;
}

/**
 * An app's pay passages (docs/routing.md), one table grouped by way: routing settings, money as
 * yuan from integer fen, the share a weight gives among equal priorities, the breaker of each
 * passage and the latest trips. `editable` (admin, operations in the operator console) adds the
 * add / edit / delete / enable controls; the server checks the same roles.
 */
export function PassageTable({ appId, editable }: { appId: string; editable: boolean }) {
  const { api } = useConsole();
  const { t } = useT();
  const act = useAction();
  const [editing, setEditing] = useState<PassageRow | 'new' | null>(null);
  const view = useLoad(() => api.get<PassagesView>(`/apps/${appId}/passages`), [appId]);
  const installed = useLoad(() => api.get<{ channels: ChannelInfo[]; ways: Array<{ wayCode: string; name: string }> }>('/channels'), []);
  const rows = view.data?.passages ?? [];
  const spans = waySpans(rows);
  const wayName = (w: string) => installed.data?.ways.find((x) => x.wayCode === w)?.name ?? '';
  const channelName = (c: string) => installed.data?.channels.find((x) => x.ifCode === c)?.name ?? c;
  const configured = (c: string) => view.data?.channels.some((x) => x.ifCode === c) ?? true;
  const passageName = (id: number) => {
    const p = rows.find((r) => r.passageId === id);
    return p ? `#${id} ${p.wayCode} · ${p.ifCode}` : `#${id}`;
  };
  const save = async (p: PassageRow, change: Record<string, unknown>) => {
    if (await act(() => api.send('PUT', `/apps/${appId}/passages/${p.passageId}`, change), t('saved'))) view.reload();
  };
  const remove = async (p: PassageRow) => {
    if (await act(() => api.send('DELETE', `/apps/${appId}/passages/${p.passageId}`), t('removed'))) view.reload();
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="passages">
      {editable && (
        <Space>
          <Button type="primary" onClick={() => setEditing('new')} data-testid="add-passage">{t('addPassage')}</Button>
          <Button onClick={view.reload}>{t('refresh')}</Button>
        </Space>
      )}
      <Table<PassageRow>
        rowKey="passageId"
        size="small"
        pagination={false}
        loading={view.loading}
        dataSource={rows}
        scroll={{ x: true }}
        columns={[
          { title: t('wayCode'), dataIndex: 'wayCode', onCell: (_p, i) => ({ rowSpan: spans[i ?? 0] }), render: (w: string) => <span><Typography.Text strong>{w}</Typography.Text><br /><Typography.Text type="secondary">{wayName(w)}</Typography.Text></span> },
          {
            title: t('ifCode'),
            dataIndex: 'ifCode',
            render: (c: string, p) => (
              <span data-testid={`passage-${p.wayCode}-${c}`}>
                {channelName(c)} <Tag>{c}</Tag> <Typography.Text type="secondary">#{p.passageId}</Typography.Text>
                {!configured(c) && <Tooltip title={t('notConfigured')}><Tag color="warning">!</Tag></Tooltip>}
              </span>
            ),
          },
          { title: <Tooltip title={t('priorityHint')}>{t('priority')}</Tooltip>, dataIndex: 'priority' },
          { title: t('weight'), dataIndex: 'weight' },
          { title: t('share'), dataIndex: 'shareBp', render: (bp: number | null) => (bp === null ? '—' : `${percentOfBp(bp)}%`) },
          { title: t('perOrder'), key: 'perOrder', render: (_: unknown, p) => perOrder(p, t('noLimit')) },
          { title: t('dailyLimit'), dataIndex: 'dailyLimit', render: (v: number | null) => (v === null ? t('noLimit') : `¥${yuan(v)}`) },
          {
            title: t('timeWindow'),
            key: 'window',
            render: (_: unknown, p) => (p.windowStart === null || p.windowEnd === null || p.windowStart === p.windowEnd ? t('allDay') : `${clock(p.windowStart)}–${p.windowStart > p.windowEnd ? `${t('nextDay')} ` : ''}${clock(p.windowEnd)}`),
          },
          { title: t('feeRate'), dataIndex: 'feeRatePpm', render: (ppm: number) => `${percentOfPpm(ppm)}%` },
          {
            title: t('state'),
            dataIndex: 'enabled',
            render: (on: boolean, p) => (editable ? <Switch size="small" checked={on} onChange={(v) => save(p, { enabled: v })} /> : <Tag color={on ? 'success' : 'default'}>{t(on ? 'enabled' : 'disabled')}</Tag>),
          },
          {
            title: <Tooltip title={t('breakerHint')}>{t('breaker')}</Tooltip>,
            dataIndex: 'breaker',
            render: (b: Breaker) => (
              <Tooltip title={[b.consecutiveFailures > 0 ? t('failures', { n: b.consecutiveFailures }) : '', b.openUntil ? `${t('openUntil')} ${dateTime(b.openUntil)}` : '', b.lastFailure ?? ''].filter(Boolean).join(' · ') || undefined}>
                <Tag color={BREAKER_COLORS[b.state]} data-breaker={b.state}>{t(`breaker.${b.state}` as MessageKey)}</Tag>
              </Tooltip>
            ),
          },
          ...(editable
            ? [{
                title: t('action'),
                key: 'actions',
                render: (_: unknown, p: PassageRow) => (
                  <Space>
                    <Button size="small" onClick={() => setEditing(p)}>{t('edit')}</Button>
                    <Popconfirm title={t('deletePassageConfirm')} onConfirm={() => remove(p)}>
                      <Button size="small" danger>{t('delete')}</Button>
                    </Popconfirm>
                  </Space>
                ),
              }]
            : []),
        ]}
      />
      {(view.data?.events.length ?? 0) > 0 && (
        <Card size="small" title={t('breakerEvents')}>
          <Table
            rowKey="id"
            size="small"
            pagination={false}
            dataSource={view.data?.events}
            columns={[
              { title: t('at'), dataIndex: 'at', render: dateTime },
              { title: t('passages'), dataIndex: 'passageId', render: passageName },
              { title: t('event'), dataIndex: 'kind', render: (k: string) => <Tag color={k === 'breaker_open' ? 'error' : 'success'}>{k === 'breaker_open' || k === 'breaker_closed' ? t(k) : k}</Tag> },
              { title: t('detail'), dataIndex: 'detail', render: (d: PassagesView['events'][number]['detail']) => [d.failures ? t('failures', { n: d.failures }) : '', d.openUntil ? `${t('openUntil')} ${dateTime(d.openUntil)}` : '', d.reason ?? ''].filter(Boolean).join(' · ') },
            ]}
          />
        </Card>
      )}
      {view.data && editing !== null && (
        <PassageForm appId={appId} view={view.data} editing={editing === 'new' ? null : editing} wayName={wayName} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); view.reload(); }} />
      )}
    </Space>
  );
}

/** Operator console: one app's pay passages (Merchants → merchant → app → Pay passages). */
export function Passages() {
  const { appId = '' } = useParams();
  const { can } = useConsole();
  const { t } = useT();
  const navigate = useNavigate();
  return (
    <Card title={`${t('passages')} · ${appId}`} extra={<Button onClick={() => navigate(-1)}>{t('back')}</Button>}>
      <Alert type="info" showIcon message={t('priorityHint')} description={t('breakerHint')} style={{ marginBottom: 12 }} />
      <PassageTable appId={appId} editable={can.operate} />
    </Card>
  );
}
