import { useState } from 'react';
import { Button, Card, Descriptions, Form, Input, Modal, Space, Table, Tag, Timeline, Typography } from 'antd';
import { useParams } from 'react-router';
import { useConsole } from '../App.tsx';
import { StateTag } from '../components.tsx';
import { dateTime, newReference, parseYuan, yuan } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { PAY_STATES, REFUND_STATES, useT } from '../i18n.tsx';
import { EventDetail } from './RouteView.tsx';

interface Order { payOrderId: string; mchNo: string; appId: string; mchOrderNo: string; ifCode: string; wayCode: string; amount: number; currency: string; state: number; subject: string; body: string; channelOrderNo: string | null; refundAmount: number; refundPending: number; errCode: string | null; errMsg: string | null; notifyUrl: string | null; returnUrl: string | null; clientIp: string | null; channelUser: string | null; payDataType: string | null; createdAt: string; successAt: string | null; expiredAt: string; lateSuccess: boolean; clientResult: string | null }
interface EventRow { id: number; orderType: 'pay' | 'refund'; orderId: string; kind: string; fromState: number | null; toState: number | null; source: string; detail: Record<string, unknown>; at: string }
interface Attempt { attemptNo: number; httpStatus: number | null; result: string; durationMs: number; at: string }
export interface NotificationRow { id: number; orderType: string; orderId: string; event: string; url: string; state: number; attempts: number; lastResult: string | null; createdAt: string; attemptLog?: Attempt[] }
interface RefundRow { refundOrderId: string; mchRefundNo: string; refundAmount: number; state: number; refundReason: string; errMsg: string | null; createdAt: string }
interface Detail { order: Order; refunds: RefundRow[]; events: EventRow[]; notifications: NotificationRow[]; cashier: { payerApp: string; wayCode: string } | null }

const EVENT_COLORS: Record<string, string> = { created: 'blue', transition: 'green', refused: 'red', callback: 'purple', client: 'gray', cashier: 'cyan', rerouted: 'orange' };

/** Resend button for one notification (orders page and notifications page). */
export function ResendButton({ id, onDone }: { id: number; onDone?: () => void }) {
  const { api, can } = useConsole();
  const { t } = useT();
  const act = useAction();
  if (!can.operate) return null;
  return <Button size="small" data-testid={`resend-${id}`} onClick={async () => (await act(() => api.send('POST', `/notifications/${id}/resend`), t('resent'))) && onDone?.()}>{t('resend')}</Button>;
}

export function OrderDetail() {
  const { payOrderId = '' } = useParams();
  const { api, can } = useConsole();
  const { t, pick } = useT();
  const act = useAction();
  const [refunding, setRefunding] = useState<string | null>(null);
  const { data, reload } = useLoad(() => api.get<Detail>(`/orders/${payOrderId}`), [payOrderId]);
  if (!data) return null;
  const o = data.order;
  const refundable = o.amount - o.refundAmount - o.refundPending;
  const stateName = (type: string, s: number | null) => (s === null ? '' : `${s} ${pick((type === 'pay' ? PAY_STATES : REFUND_STATES)[s])}`);

  const refund = async (v: { amount: string; reason: string }) => {
    const fen = parseYuan(v.amount);
    if (fen === null) return;
    const r = await act(() => api.send('POST', `/orders/${payOrderId}/refunds`, { refundAmount: fen, refundReason: v.reason, mchRefundNo: refunding }), t('done'));
    if (r) {
      setRefunding(null);
      reload();
    }
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Card
        title={<span>{t('payOrderId')} {o.payOrderId} <StateTag kind="pay" state={o.state} /></span>}
        extra={can.operate && (
          <Space>
            <Button onClick={async () => (await act(() => api.send('POST', `/orders/${payOrderId}/sync`))) && reload()}>{t('syncChannel')}</Button>
            <Button type="primary" danger disabled={o.state !== 2 || refundable <= 0} onClick={() => setRefunding(newReference('CR'))}>{t('refund')}</Button>
          </Space>
        )}
      >
        <Descriptions size="small" bordered column={{ xs: 1, md: 2, xl: 3 }}>
          <Descriptions.Item label={t('mchOrderNo')}>{o.mchOrderNo}</Descriptions.Item>
          <Descriptions.Item label={t('mchNo')}>{o.mchNo}</Descriptions.Item>
          <Descriptions.Item label={t('appId')}>{o.appId}</Descriptions.Item>
          <Descriptions.Item label={t('amount')}><span data-testid="order-amount">¥{yuan(o.amount)}</span> {o.currency}</Descriptions.Item>
          <Descriptions.Item label={t('refundAmount')}>¥{yuan(o.refundAmount)}{o.refundPending > 0 && ` (+${yuan(o.refundPending)})`}</Descriptions.Item>
          <Descriptions.Item label={t('wayCode')}>{o.wayCode} <Tag>{o.ifCode}</Tag>{data.cashier && <Tag color="cyan">{t('cashier')} · {data.cashier.payerApp}</Tag>}</Descriptions.Item>
          <Descriptions.Item label={t('channelOrderNo')}>{o.channelOrderNo}</Descriptions.Item>
          <Descriptions.Item label={t('subject')}>{o.subject}</Descriptions.Item>
          <Descriptions.Item label="errCode / errMsg">{o.errCode} {o.errMsg}</Descriptions.Item>
          <Descriptions.Item label={t('createdAt')}>{dateTime(o.createdAt)}</Descriptions.Item>
          <Descriptions.Item label="successAt">{dateTime(o.successAt)}</Descriptions.Item>
          <Descriptions.Item label="expiredAt">{dateTime(o.expiredAt)}</Descriptions.Item>
          <Descriptions.Item label="notifyUrl">{o.notifyUrl}</Descriptions.Item>
          <Descriptions.Item label="channelUser">{o.channelUser}</Descriptions.Item>
          <Descriptions.Item label="clientIp">{o.clientIp}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t('timeline')}>
        <Timeline
          items={data.events.map((e) => ({
            color: EVENT_COLORS[e.kind] ?? 'gray',
            children: (
              <div data-testid="timeline-event">
                <Typography.Text strong>{dateTime(e.at)}</Typography.Text> <Tag>{e.orderType === 'refund' ? e.orderId : 'pay'}</Tag> <Tag color={EVENT_COLORS[e.kind]}>{e.kind}</Tag> <Tag>{e.source}</Tag>
                {(e.fromState !== null || e.toState !== null) && <span>{stateName(e.orderType, e.fromState)} → {stateName(e.orderType, e.toState)}</span>}
                <EventDetail detail={e.detail} />
              </div>
            ),
          }))}
        />
      </Card>
      <Card title={t('refunds')}>
        <Table<RefundRow> rowKey="refundOrderId" size="small" pagination={false} dataSource={data.refunds} columns={[
          { title: 'refundOrderId', dataIndex: 'refundOrderId' },
          { title: 'mchRefundNo', dataIndex: 'mchRefundNo' },
          { title: t('amount'), dataIndex: 'refundAmount', render: (v: number) => `¥${yuan(v)}` },
          { title: t('state'), dataIndex: 'state', render: (s: number) => <StateTag kind="refund" state={s} /> },
          { title: t('refundReason'), dataIndex: 'refundReason' },
          { title: t('createdAt'), dataIndex: 'createdAt', render: dateTime },
        ]} />
      </Card>
      <Card title={t('notifications')}>
        <NotificationTable rows={data.notifications} onChanged={reload} />
      </Card>
      <Modal title={`${t('refund')} · ${t('refundable')} ¥${yuan(refundable)}`} open={refunding !== null} onCancel={() => setRefunding(null)} footer={null} destroyOnHidden>
        <Form layout="vertical" name="refund" onFinish={refund}>
          <Form.Item name="amount" label={t('refundAmountYuan')} initialValue={yuan(refundable)} rules={[{ required: true }, { validator: async (_r, v: string) => { const f = parseYuan(v ?? ''); if (f === null || f <= 0 || f > refundable) throw new Error(t('invalidAmount')); } }]}>
            <Input />
          </Form.Item>
          <Form.Item name="reason" label={t('refundReason')} initialValue="console refund" rules={[{ required: true, max: 128 }]}><Input /></Form.Item>
          <Button type="primary" danger htmlType="submit">{t('refund')}</Button>
        </Form>
      </Modal>
    </Space>
  );
}

export function NotificationTable({ rows, onChanged }: { rows: NotificationRow[]; onChanged: () => void }) {
  const { t } = useT();
  return (
    <Table<NotificationRow>
      rowKey="id"
      size="small"
      pagination={false}
      dataSource={rows}
      expandable={{ rowExpandable: (n) => (n.attemptLog?.length ?? 0) > 0, expandedRowRender: (n) => <Table<Attempt> rowKey="attemptNo" size="small" pagination={false} dataSource={n.attemptLog} columns={[{ title: '#', dataIndex: 'attemptNo' }, { title: 'HTTP', dataIndex: 'httpStatus' }, { title: t('lastResult'), dataIndex: 'result', ellipsis: true }, { title: 'ms', dataIndex: 'durationMs' }, { title: t('at'), dataIndex: 'at', render: dateTime }]} /> }}
      columns={[
        { title: 'id', dataIndex: 'id' },
        { title: t('event'), dataIndex: 'event' },
        { title: t('url'), dataIndex: 'url', ellipsis: true },
        { title: t('state'), dataIndex: 'state', render: (s: number) => <StateTag kind="notify" state={s} /> },
        { title: t('attempts'), dataIndex: 'attempts' },
        { title: t('lastResult'), dataIndex: 'lastResult', ellipsis: true },
        { title: '', render: (_: unknown, n) => <ResendButton id={n.id} onDone={onChanged} /> },
      ]}
    />
  );
}
