import { useState } from 'react';
import { Card, Table } from 'antd';
import { Link } from 'react-router';
import { useConsole } from '../App.tsx';
import { StateTag, pagination } from '../components.tsx';
import { dateTime, yuan } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';
import { type ListFilter, OrderFilters } from './Orders.tsx';

interface RefundRow { refundOrderId: string; payOrderId: string; mchNo: string; mchRefundNo: string; wayCode: string; refundAmount: number; payAmount: number; state: number; refundReason: string; createdAt: string }

export function Refunds() {
  const { api } = useConsole();
  const { t } = useT();
  const [filter, setFilter] = useState<ListFilter>({ page: 1, pageSize: 20 });
  const { data, loading } = useLoad(() => api.get<{ total: number; items: RefundRow[] }>('/refunds', { ...filter }), [JSON.stringify(filter)]);
  return (
    <Card title={t('refunds')}>
      <OrderFilters kind="refund" onSearch={(f) => setFilter({ ...f, page: 1, pageSize: filter.pageSize })} />
      <Table<RefundRow>
        style={{ marginTop: 16 }}
        rowKey="refundOrderId"
        size="small"
        loading={loading}
        dataSource={data?.items}
        pagination={pagination(filter, setFilter, data?.total, t)}
        columns={[
          { title: 'refundOrderId', dataIndex: 'refundOrderId' },
          { title: t('payOrderId'), dataIndex: 'payOrderId', render: (v: string) => <Link to={`/orders/${v}`}>{v}</Link> },
          { title: 'mchRefundNo', dataIndex: 'mchRefundNo' },
          { title: t('mchNo'), dataIndex: 'mchNo' },
          { title: t('wayCode'), dataIndex: 'wayCode' },
          { title: t('amount'), dataIndex: 'refundAmount', align: 'right', render: (v: number, r) => `¥${yuan(v)} / ${yuan(r.payAmount)}` },
          { title: t('state'), dataIndex: 'state', render: (s: number) => <StateTag kind="refund" state={s} /> },
          { title: t('refundReason'), dataIndex: 'refundReason', ellipsis: true },
          { title: t('createdAt'), dataIndex: 'createdAt', render: dateTime },
        ]}
      />
    </Card>
  );
}
