import { Card, Table } from 'antd';
import { useConsole } from '../App.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';

export function Audit() {
  const { api } = useConsole();
  const { t } = useT();
  const { data, loading } = useLoad(() => api.get<{ entries: Array<Record<string, unknown>> }>('/audit'), []);
  return (
    <Card title={t('audit')}>
      <Table rowKey="id" size="small" loading={loading} dataSource={data?.entries} columns={[
        { title: t('at'), dataIndex: 'at', render: dateTime },
        { title: 'realm', dataIndex: 'realm' },
        { title: t('username'), dataIndex: 'username' },
        { title: t('mchNo'), dataIndex: 'mchNo' },
        { title: t('action'), dataIndex: 'action' },
        { title: t('target'), dataIndex: 'target' },
        { title: t('outcome'), dataIndex: 'outcome' },
      ]} />
    </Card>
  );
}
