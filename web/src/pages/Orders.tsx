import { useState } from 'react';
import { Button, Card, DatePicker, Form, Input, Select, Space, Table, Tag } from 'antd';
import type { Dayjs } from 'dayjs';
import { Link } from 'react-router';
import { useConsole } from '../App.tsx';
import { StateTag, pagination } from '../components.tsx';
import { dateTime, yuan } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { PAY_STATES, REFUND_STATES, useT } from '../i18n.tsx';

export interface ListFilter { q?: string; state?: number; wayCode?: string; ifCode?: string; mchNo?: string; from?: string; to?: string; page: number; pageSize: number }
interface FormValues { q?: string; state?: number; wayCode?: string; ifCode?: string; mchNo?: string; range?: [Dayjs, Dayjs] | null }

/** The search bar shared by pay orders and refunds: any id, state, way, channel, merchant (operators), dates. */
export function OrderFilters({ kind, onSearch }: { kind: 'pay' | 'refund'; onSearch: (f: Omit<ListFilter, 'page' | 'pageSize'>) => void }) {
  const { api, session } = useConsole();
  const { t, pick } = useT();
  const [form] = Form.useForm<FormValues>();
  const { data } = useLoad(() => api.get<{ channels: Array<{ ifCode: string; name: string }>; ways: Array<{ wayCode: string; name: string }> }>('/channels'), []);
  const states = kind === 'pay' ? PAY_STATES : REFUND_STATES;
  const submit = (v: FormValues) =>
    onSearch({ q: v.q?.trim() || undefined, state: v.state, wayCode: v.wayCode, ifCode: v.ifCode, mchNo: v.mchNo?.trim() || undefined, from: v.range?.[0]?.startOf('day').toISOString(), to: v.range?.[1]?.endOf('day').toISOString() });
  return (
    <Form form={form} layout="inline" name={`${kind}-filters`} onFinish={submit} style={{ rowGap: 8 }}>
      <Form.Item name="q"><Input allowClear placeholder={t('searchHint')} style={{ width: 300 }} /></Form.Item>
      <Form.Item name="state"><Select allowClear placeholder={t('state')} style={{ width: 130 }} options={Object.entries(states).map(([k, v]) => ({ value: Number(k), label: `${k} ${pick(v)}` }))} /></Form.Item>
      <Form.Item name="wayCode"><Select allowClear showSearch placeholder={t('wayCode')} style={{ width: 160 }} options={data?.ways.map((w) => ({ value: w.wayCode, label: w.wayCode }))} /></Form.Item>
      <Form.Item name="ifCode"><Select allowClear placeholder={t('ifCode')} style={{ width: 120 }} options={data?.channels.map((c) => ({ value: c.ifCode, label: c.ifCode }))} /></Form.Item>
      {session.realm === 'operator' && <Form.Item name="mchNo"><Input allowClear placeholder={t('mchNo')} style={{ width: 130 }} /></Form.Item>}
      <Form.Item name="range"><DatePicker.RangePicker /></Form.Item>
      <Space>
        <Button type="primary" htmlType="submit">{t('search')}</Button>
        <Button onClick={() => { form.resetFields(); onSearch({}); }}>{t('reset')}</Button>
      </Space>
    </Form>
  );
}

interface OrderRow { payOrderId: string; mchNo: string; mchOrderNo: string; wayCode: string; ifCode: string; amount: number; state: number; subject: string; channelOrderNo: string | null; refundAmount: number; lateSuccess: boolean; createdAt: string }

export function Orders() {
  const { api } = useConsole();
  const { t } = useT();
  const [filter, setFilter] = useState<ListFilter>({ page: 1, pageSize: 20 });
  const { data, loading } = useLoad(() => api.get<{ total: number; items: OrderRow[] }>('/orders', { ...filter }), [JSON.stringify(filter)]);
  return (
    <Card title={t('orders')} data-testid="orders">
      <OrderFilters kind="pay" onSearch={(f) => setFilter({ ...f, page: 1, pageSize: filter.pageSize })} />
      <Table<OrderRow>
        style={{ marginTop: 16 }}
        rowKey="payOrderId"
        size="small"
        loading={loading}
        dataSource={data?.items}
        pagination={pagination(filter, setFilter, data?.total, t)}
        columns={[
          { title: t('payOrderId'), dataIndex: 'payOrderId', render: (v: string) => <Link to={`/orders/${v}`}>{v}</Link> },
          { title: t('mchOrderNo'), dataIndex: 'mchOrderNo' },
          { title: t('mchNo'), dataIndex: 'mchNo' },
          { title: t('wayCode'), dataIndex: 'wayCode', render: (v: string, o) => <span>{v} <Tag>{o.ifCode}</Tag></span> },
          { title: t('amount'), dataIndex: 'amount', align: 'right', render: (v: number, o) => <span>¥{yuan(v)}{o.refundAmount > 0 && <Tag color="purple" style={{ marginLeft: 4 }}>-{yuan(o.refundAmount)}</Tag>}</span> },
          { title: t('state'), dataIndex: 'state', render: (s: number, o) => <span><StateTag kind="pay" state={s} />{o.lateSuccess && <Tag color="red">{t('lateSuccess')}</Tag>}</span> },
          { title: t('subject'), dataIndex: 'subject', ellipsis: true },
          { title: t('createdAt'), dataIndex: 'createdAt', render: dateTime },
        ]}
      />
    </Card>
  );
}
