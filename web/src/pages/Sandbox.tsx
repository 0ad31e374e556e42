import { Card, List, Typography } from 'antd';
import { useConsole } from '../App.tsx';
import { useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';

/** Links to the running simulators' payer pages (the sandbox payer pays, cancels or fails orders there). */
export function Sandbox() {
  const { api } = useConsole();
  const { t } = useT();
  const { data } = useLoad(() => api.get<{ pages: Array<{ name: string; url: string }> }>('/sandbox'), []);
  return (
    <Card title={t('sandboxPages')}>
      <List
        locale={{ emptyText: t('noSandbox') }}
        dataSource={data?.pages ?? []}
        renderItem={(p) => <List.Item><a href={p.url} target="_blank" rel="noreferrer noopener">{p.name}</a> <Typography.Text type="secondary">{p.url}</Typography.Text></List.Item>}
      />
      <Typography.Paragraph type="secondary" style={{ marginTop: 16 }}>{t('sandboxKeys')}</Typography.Paragraph>
    </Card>
  );
}
