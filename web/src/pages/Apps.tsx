import { App, Button, Card, Collapse, Popconfirm, Space, Tag } from 'antd';
import { useConsole } from '../App.tsx';
import { showOnce } from '../components.tsx';
import { useAction, useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';
import { type ChannelConfigView, type ChannelInfo, ChannelSummary } from './ChannelForm.tsx';
import { PassageTable } from './Passages.tsx';

interface AppRow { appId: string; name: string; state: number; ways: Record<string, string> }

function AppChannels({ appId, channels }: { appId: string; channels: ChannelInfo[] }) {
  const { api } = useConsole();
  const { data } = useLoad(() => api.get<{ configs: ChannelConfigView[] }>(`/apps/${appId}/channels`), [appId]);
  return <Space direction="vertical" style={{ width: '100%' }}>{data?.configs.map((c) => <ChannelSummary key={c.ifCode} channel={channels.find((x) => x.ifCode === c.ifCode)} current={c} />)}</Space>;
}

/** Merchant console: its apps, their keys (rotation shows the new secret once), channel setup and pay passages (read-only). */
export function Apps() {
  const { api, can } = useConsole();
  const { t } = useT();
  const { modal } = App.useApp();
  const act = useAction();
  const apps = useLoad(() => api.get<{ apps: AppRow[] }>('/apps'), []);
  const channels = useLoad(() => api.get<{ channels: ChannelInfo[] }>('/channels'), []);
  const rotate = async (appId: string) => {
    const r = await act(() => api.send<{ appSecret: string }>('POST', `/apps/${appId}/secret`));
    if (r) showOnce(modal, t('rotateSecret'), t('secretOnce'), [[t('appId'), appId], [t('appSecret'), r.appSecret]]);
  };
  return (
    <Card title={t('apps')}>
      <Collapse
        items={(apps.data?.apps ?? []).map((a) => ({
          key: a.appId,
          label: <span>{a.appId} {a.name && `· ${a.name}`} {Object.keys(a.ways).map((w) => <Tag key={w}>{w}</Tag>)}</span>,
          extra: can.administer && (
            <span onClick={(e) => e.stopPropagation()}>
              <Popconfirm title={t('rotateConfirm')} onConfirm={() => rotate(a.appId)}>
                <Button size="small">{t('rotateSecret')}</Button>
              </Popconfirm>
            </span>
          ),
          children: (
            <Space direction="vertical" style={{ width: '100%' }}>
              <AppChannels appId={a.appId} channels={channels.data?.channels ?? []} />
              <Card size="small" title={t('passages')}>
                <PassageTable appId={a.appId} editable={false} />
              </Card>
            </Space>
          ),
        }))}
      />
    </Card>
  );
}
