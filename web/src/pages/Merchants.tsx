import { useState } from 'react';
import { Button, Card, Form, Input, Modal, Table, Tag } from 'antd';
import { Link, useNavigate } from 'react-router';
import { useConsole } from '../App.tsx';
import { dateTime } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';

interface MerchantRow { mchNo: string; name: string; state: number; appIds: string[]; createdAt: string }

export function Merchants() {
  const { api, can } = useConsole();
  const { t } = useT();
  const navigate = useNavigate();
  const act = useAction();
  const [open, setOpen] = useState(false);
  const { data, loading } = useLoad(() => api.get<{ merchants: MerchantRow[] }>('/merchants'), []);
  const create = async (v: { name: string; mchNo?: string }) => {
    const r = await act(() => api.send<{ mchNo: string }>('POST', '/merchants', v));
    if (r) navigate(`/merchants/${r.mchNo}`);
  };
  return (
    <Card title={t('merchants')} extra={can.administer && <Button type="primary" onClick={() => setOpen(true)}>{t('newMerchant')}</Button>}>
      <Table<MerchantRow>
        rowKey="mchNo"
        loading={loading}
        dataSource={data?.merchants}
        columns={[
          { title: t('mchNo'), dataIndex: 'mchNo', render: (v: string) => <Link to={`/merchants/${v}`}>{v}</Link> },
          { title: t('name'), dataIndex: 'name' },
          { title: t('state'), dataIndex: 'state', render: (s: number) => <Tag color={s === 1 ? 'green' : 'red'}>{t(s === 1 ? 'enabled' : 'disabled')}</Tag> },
          { title: t('apps'), dataIndex: 'appIds', render: (a: string[]) => a.length },
          { title: t('createdAt'), dataIndex: 'createdAt', render: dateTime },
        ]}
      />
      <Modal title={t('newMerchant')} open={open} onCancel={() => setOpen(false)} footer={null} destroyOnHidden>
        <Form layout="vertical" name="newMerchant" onFinish={create}>
          <Form.Item name="name" label={t('name')} rules={[{ required: true, max: 64 }]}><Input /></Form.Item>
          <Form.Item name="mchNo" label={`${t('mchNo')} (optional)`} rules={[{ pattern: /^[0-9A-Za-z_-]{2,32}$/ }]}><Input /></Form.Item>
          <Button type="primary" htmlType="submit">{t('create')}</Button>
        </Form>
      </Modal>
    </Card>
  );
}
