import { useState } from 'react';
import { App, Button, Card, Collapse, Descriptions, Input, Popconfirm, Space, Switch, Tabs, Tag, Typography } from 'antd';
import { useNavigate, useParams } from 'react-router';
import { useConsole } from '../App.tsx';
import { showOnce } from '../components.tsx';
import { useAction, useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';
import { type ChannelConfigView, ChannelForm, type ChannelInfo } from './ChannelForm.tsx';
import { UserTable } from './Users.tsx';

interface AppRow { appId: string; mchNo: string; name: string; state: number; ways: Record<string, string>; createdAt: string }
interface MerchantRow { mchNo: string; name: string; state: number; type: number }

function AppChannels({ appId, channels }: { appId: string; channels: ChannelInfo[] }) {
  const { api } = useConsole();
  const { data, reload } = useLoad(() => api.get<{ configs: ChannelConfigView[] }>(`/apps/${appId}/channels`), [appId]);
  const sandbox = useLoad(() => api.get<{ keys: string[] }>('/sandbox'), []);
  if (!data) return null;
  return (
    <Tabs
      items={channels.map((c) => ({
        key: c.ifCode,
        label: `${c.name} ${c.ifCode}${data.configs.some((x) => x.ifCode === c.ifCode && x.ways.length > 0) ? ' ✓' : ''}`,
        children: <ChannelForm appId={appId} channel={c} current={data.configs.find((x) => x.ifCode === c.ifCode)} onSaved={reload} sandboxKeys={sandbox.data?.keys.includes(c.ifCode) ?? false} />,
      }))}
    />
  );
}

/** One merchant: its apps (keys, channel forms, ways) and its console users. */
export function MerchantDetail() {
  const { mchNo = '' } = useParams();
  const { api, can } = useConsole();
  const { t } = useT();
  const { modal } = App.useApp();
  const act = useAction();
  const navigate = useNavigate();
  const [appName, setAppName] = useState('');
  const merchants = useLoad(() => api.get<{ merchants: MerchantRow[] }>('/merchants'), [mchNo]);
  const apps = useLoad(() => api.get<{ apps: AppRow[] }>('/apps', { mchNo }), [mchNo]);
  const channels = useLoad(() => api.get<{ channels: ChannelInfo[] }>('/channels'), []);
  const merchant = merchants.data?.merchants.find((m) => m.mchNo === mchNo);

  const newApp = async () => {
    const r = await act(() => api.send<{ appId: string; appSecret: string }>('POST', `/merchants/${mchNo}/apps`, { name: appName }));
    if (!r) return;
    showOnce(modal, t('newApp'), t('secretOnce'), [[t('appId'), r.appId], [t('appSecret'), r.appSecret]]);
    setAppName('');
    apps.reload();
  };
  const rotate = async (appId: string) => {
    const r = await act(() => api.send<{ appSecret: string }>('POST', `/apps/${appId}/secret`));
    if (r) showOnce(modal, t('rotateSecret'), t('secretOnce'), [[t('appId'), appId], [t('appSecret'), r.appSecret]]);
  };
  const alipayAuth = async (appId: string) => {
    const r = await act(() => api.send<{ url: string; expiresAt: string }>('POST', `/apps/${appId}/alipay/app-auth`));
    if (r) modal.info({ title: t('alipayAuthLink'), width: 640, content: <div><p>{t('alipayAuthHint')}</p><Typography.Paragraph copyable code style={{ wordBreak: 'break-all' }}>{r.url}</Typography.Paragraph></div> });
  };
  const setState = async (path: string, state: number, reload: () => void) => {
    if (await act(() => api.send('PATCH', path, { state }), t('saved'))) reload();
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Card title={`${t('merchants')} · ${mchNo}`}>
        {merchant && (
          <Descriptions size="small" column={3}>
            <Descriptions.Item label={t('name')}>{merchant.name} {merchant.type === 2 && <Tag color="purple">{t('subMerchant')}</Tag>}</Descriptions.Item>
            <Descriptions.Item label={t('state')}>
              <Switch checked={merchant.state === 1} disabled={!can.administer} onChange={(on) => setState(`/merchants/${mchNo}`, on ? 1 : 0, merchants.reload)} />
            </Descriptions.Item>
          </Descriptions>
        )}
      </Card>
      <Card
        title={t('apps')}
        extra={can.administer && (
          <Space.Compact>
            <Input placeholder={t('name')} value={appName} onChange={(e) => setAppName(e.target.value)} />
            <Button type="primary" onClick={newApp}>{t('newApp')}</Button>
          </Space.Compact>
        )}
      >
        <Collapse
          items={(apps.data?.apps ?? []).map((a) => ({
            key: a.appId,
            label: <span data-testid={`app-${a.appId}`}>{a.appId} {a.name && `· ${a.name}`} {Object.keys(a.ways).map((w) => <Tag key={w}>{w}</Tag>)}</span>,
            extra: (
              <Space onClick={(e) => e.stopPropagation()}>
                <Switch size="small" checked={a.state === 1} disabled={!can.administer} onChange={(on) => setState(`/apps/${a.appId}`, on ? 1 : 0, apps.reload)} />
                <Button size="small" data-testid={`passages-${a.appId}`} onClick={() => navigate(`/apps/${a.appId}/passages`)}>{t('passages')}</Button>
                {can.administer && merchant?.type === 2 && <Button size="small" onClick={() => alipayAuth(a.appId)}>{t('alipayAuthLink')}</Button>}
                {can.administer && (
                  <Popconfirm title={t('rotateConfirm')} onConfirm={() => rotate(a.appId)}>
                    <Button size="small">{t('rotateSecret')}</Button>
                  </Popconfirm>
                )}
              </Space>
            ),
            children: channels.data ? <AppChannels appId={a.appId} channels={channels.data.channels} /> : null,
          }))}
        />
      </Card>
      {can.administer && (
        <Card title={t('users')}>
          <UserTable listPath={`/merchants/${mchNo}/users`} createPath={`/merchants/${mchNo}/users`} manage={false} />
        </Card>
      )}
    </Space>
  );
}

