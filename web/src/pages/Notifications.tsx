import { useState } from 'react';
import { Button, Card, Form, Input, Select, Table } from 'antd';
import { Link } from 'react-router';
import { useConsole } from '../App.tsx';
import { StateTag, pagination } from '../components.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { NOTIFY_STATES, useT } from '../i18n.tsx';
import { type NotificationRow, ResendButton } from './OrderDetail.tsx';

export function Notifications() {
  const { api } = useConsole();
  const { t, pick } = useT();
  const [filter, setFilter] = useState<{ q?: string; state?: number; page: number; pageSize: number }>({ page: 1, pageSize: 20 });
  const { data, loading, reload } = useLoad(() => api.get<{ total: number; items: Array<NotificationRow & { mchOrderNo: string; mchNo: string; updatedAt: string }> }>('/notifications', { ...filter }), [JSON.stringify(filter)]);
  return (
    <Card title={t('notifications')}>
      <Form layout="inline" name="notification-filters" onFinish={(v: { q?: string; state?: number }) => setFilter({ ...filter, q: v.q?.trim() || undefined, state: v.state, page: 1 })}>
        <Form.Item name="q"><Input allowClear placeholder={`${t('payOrderId')} / ${t('mchOrderNo')}`} style={{ width: 280 }} /></Form.Item>
        <Form.Item name="state"><Select allowClear placeholder={t('state')} style={{ width: 140 }} options={Object.entries(NOTIFY_STATES).map(([k, v]) => ({ value: Number(k), label: pick(v) }))} /></Form.Item>
        <Button type="primary" htmlType="submit">{t('search')}</Button>
      </Form>
      <Table
        style={{ marginTop: 16 }}
        rowKey="id"
        size="small"
        loading={loading}
        dataSource={data?.items}
        pagination={pagination(filter, setFilter, data?.total, t)}
        columns={[
          { title: 'id', dataIndex: 'id' },
          { title: t('event'), dataIndex: 'event' },
          { title: t('payOrderId'), dataIndex: 'orderId', render: (v: string, n) => (n.orderType === 'pay' ? <Link to={`/orders/${v}`}>{v}</Link> : v) },
          { title: t('mchOrderNo'), dataIndex: 'mchOrderNo' },
          { title: t('url'), dataIndex: 'url', ellipsis: true },
          { title: t('state'), dataIndex: 'state', render: (s: number) => <StateTag kind="notify" state={s} /> },
          { title: t('attempts'), dataIndex: 'attempts' },
          { title: t('lastResult'), dataIndex: 'lastResult', ellipsis: true },
          { title: t('at'), dataIndex: 'updatedAt', render: dateTime },
          { title: '', render: (_: unknown, n) => <ResendButton id={n.id} onDone={reload} /> },
        ]}
      />
    </Card>
  );
}
