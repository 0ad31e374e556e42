import { useState } from 'react';
import { Button, Card, Empty, Form, Input, Space, Tabs, Tag } from 'antd';
import { useNavigate } from 'react-router';
import { useConsole } from '../App.tsx';
import { useAction, useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';
import { ChannelForm, type ChannelInfo } from './ChannelForm.tsx';

interface IsvRow { isvNo: string; ifCode: string; name: string; state: number; params: Record<string, string>; secretsSet: Record<string, boolean>; subMerchants: number }

/** 服务商: a provider's credentials per channel (the same generated forms) and its sub-merchants. */
export function ServiceProviders() {
  const { api, can } = useConsole();
  const { t } = useT();
  const navigate = useNavigate();
  const act = useAction();
  const [added, setAdded] = useState<Array<{ isvNo: string; name: string }>>([]);
  const isvs = useLoad(() => api.get<{ isvs: IsvRow[] }>('/isvs'), []);
  const channels = useLoad(() => api.get<{ channels: ChannelInfo[] }>('/channels'), []);
  const rows = isvs.data?.isvs ?? [];
  const providers = [...new Map([...rows.map((r) => [r.isvNo, r.name] as const), ...added.map((a) => [a.isvNo, a.name] as const)]).entries()];
  const subMerchant = async (isvNo: string, v: { name: string; mchNo?: string }) => {
    const r = await act(() => api.send<{ mchNo: string }>('POST', `/isvs/${isvNo}/merchants`, v));
    if (r) navigate(`/merchants/${r.mchNo}`);
  };
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      {can.administer && (
        <Card title={t('newProvider')}>
          <Form layout="inline" name="newProvider" onFinish={(v: { isvNo: string; name: string }) => setAdded([...added, v])}>
            <Form.Item name="isvNo" rules={[{ required: true, pattern: /^[0-9A-Za-z_-]{2,32}$/ }]}><Input placeholder={t('isvNo')} /></Form.Item>
            <Form.Item name="name" rules={[{ required: true, max: 64 }]}><Input placeholder={t('name')} /></Form.Item>
            <Button type="primary" htmlType="submit">{t('create')}</Button>
          </Form>
        </Card>
      )}
      {providers.length === 0 && <Empty />}
      {providers.map(([isvNo, name]) => {
        const own = rows.filter((r) => r.isvNo === isvNo);
        return (
          <Card key={isvNo} title={<span>{name} <Tag>{isvNo}</Tag></span>} extra={<span>{t('subMerchants')}: {own[0]?.subMerchants ?? 0}</span>}>
            <Tabs
              items={(channels.data?.channels ?? []).filter((c) => c.ifCode !== 'cashier').map((c) => {
                const cfg = own.find((r) => r.ifCode === c.ifCode);
                return {
                  key: c.ifCode,
                  label: `${c.name} ${c.ifCode}${cfg ? ' ✓' : ''}`,
                  children: <ChannelForm appId={isvNo} channel={c} current={cfg && { ifCode: c.ifCode, params: cfg.params, secretsSet: cfg.secretsSet, ways: [] }} onSaved={isvs.reload} sandboxKeys={false} savePath={`/isvs/${isvNo}/channels/${c.ifCode}`} withWays={false} extra={{ name }} />,
                };
              })}
            />
            {can.administer && own.length > 0 && (
              <Form layout="inline" name={`sub-${isvNo}`} onFinish={(v: { name: string; mchNo?: string }) => subMerchant(isvNo, v)}>
                <Form.Item name="name" rules={[{ required: true, max: 64 }]}><Input placeholder={t('name')} /></Form.Item>
                <Form.Item name="mchNo" rules={[{ pattern: /^[0-9A-Za-z_-]{2,32}$/ }]}><Input placeholder={`${t('mchNo')} (optional)`} /></Form.Item>
                <Button htmlType="submit">{t('newSubMerchant')}</Button>
              </Form>
            )}
          </Card>
        );
      })}
    </Space>
  );
}
