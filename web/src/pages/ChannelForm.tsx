import { Alert, Button, Checkbox, Descriptions, Form, Input, Select, Space, Tag, Typography } from 'antd';
import { useConsole } from '../App.tsx';
import { useAction } from '../hooks.ts';
import { useT } from '../i18n.tsx';

export interface ConfigField { name: string; label: string; secret: boolean; required: boolean; description: string; options?: string[] }
export interface ChannelInfo { ifCode: string; name: string; ways: Array<{ wayCode: string; name: string }>; configFields: ConfigField[] }
export interface ChannelConfigView { ifCode: string; params: Record<string, string>; secretsSet: Record<string, boolean>; ways: string[] }

/** PEM keys and certificates are long multi-line values (the channels' field descriptions say PEM). */
const multiline = (f: ConfigField) => /\bPEM\b/.test(f.description) || /Cert$/.test(f.name);

/**
 * The configuration form of one channel, generated from the fields the channel declares
 * (src/channels/types.ts ConfigField). Secrets are write-only: the form never receives them and
 * a blank secret keeps the stored value.
 */
export function ChannelForm({ appId, channel, current, onSaved, sandboxKeys, savePath, withWays = true, extra = {} }: { appId: string; channel: ChannelInfo; current: ChannelConfigView | undefined; onSaved: () => void; sandboxKeys: boolean; savePath?: string; withWays?: boolean; extra?: Record<string, unknown> }) {
  const { api, can } = useConsole();
  const { t } = useT();
  const act = useAction();
  const [form] = Form.useForm();
  const initial = { ...(current?.params ?? {}), ways: current?.ways ?? [] };
  const save = async (values: Record<string, unknown>) => {
    const params: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const f of channel.configFields) {
      const v = values[f.name];
      const text = typeof v === 'string' ? v.trim() : '';
      if (f.secret) {
        if (text) secrets[f.name] = text;
      } else params[f.name] = text;
    }
    const body = withWays ? { params, secrets, ways: values.ways ?? [], ...extra } : { params, secrets, ...extra };
    const ok = await act(() => api.send('PUT', savePath ?? `/apps/${appId}/channels/${channel.ifCode}`, body), t('saved'));
    if (ok) {
      form.resetFields(channel.configFields.filter((f) => f.secret).map((f) => f.name));
      onSaved();
    }
  };
  // Sandbox: the simulator issues a new merchant's keys; they fill the form and are saved only with it.
  const fillSandboxKeys = async () => {
    const keys = await act(() => api.send<{ params: Record<string, string>; secrets: Record<string, string> }>('POST', `/apps/${appId}/channels/${channel.ifCode}/sandbox-keys`));
    if (keys) form.setFieldsValue({ ...keys.params, ...keys.secrets });
  };
  return (
    <Form form={form} name={`channel-${channel.ifCode}`} layout="vertical" initialValues={initial} onFinish={save} disabled={!can.administer} data-testid={`channel-form-${channel.ifCode}`}>
      {channel.configFields.map((f) => {
        const set = current?.secretsSet[f.name];
        const placeholder = f.secret ? t(set ? 'secretSet' : 'secretUnset') : undefined;
        const required = f.required && !(f.secret && set);
        return (
          <Form.Item key={f.name} name={f.name} label={<span>{f.label} <Typography.Text type="secondary" code>{f.name}</Typography.Text>{f.secret && <Tag color="orange" style={{ marginLeft: 6 }}>secret</Tag>}</span>} extra={f.description} rules={[{ required, message: `${f.name}` }]}>
            {f.options ? (
              <Select allowClear options={f.options.map((o) => ({ value: o, label: o }))} />
            ) : multiline(f) ? (
              <Input.TextArea autoSize={{ minRows: 2, maxRows: 8 }} placeholder={placeholder} spellCheck={false} autoComplete="off" />
            ) : f.secret ? (
              <Input.Password placeholder={placeholder} autoComplete="new-password" />
            ) : (
              <Input autoComplete="off" />
            )}
          </Form.Item>
        );
      })}
      {withWays && (
        <Form.Item name="ways" label={t('enabledWays')} extra={t('passagesLater')}>
          <Checkbox.Group options={channel.ways.map((w) => ({ value: w.wayCode, label: `${w.wayCode} ${w.name}` }))} />
        </Form.Item>
      )}
      {can.administer && (
        <Space>
          <Button type="primary" htmlType="submit">{t('save')}</Button>
          {sandboxKeys && <Button onClick={fillSandboxKeys} data-testid={`sandbox-keys-${channel.ifCode}`}>{t('fillSandboxKeys')}</Button>}
        </Space>
      )}
    </Form>
  );
}

/** The same configuration, read-only (merchant console): parameters, which secrets are set, ways. */
export function ChannelSummary({ channel, current }: { channel: ChannelInfo | undefined; current: ChannelConfigView }) {
  const { t } = useT();
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Descriptions size="small" bordered column={1} title={`${channel?.name ?? current.ifCode} (${current.ifCode})`}>
        {(channel?.configFields ?? []).map((f) => (
          <Descriptions.Item key={f.name} label={f.label}>
            {f.secret ? <Tag>{t(current.secretsSet[f.name] ? 'secretSet' : 'secretUnset')}</Tag> : <Typography.Text style={{ wordBreak: 'break-all' }}>{current.params[f.name]}</Typography.Text>}
          </Descriptions.Item>
        ))}
        <Descriptions.Item label={t('enabledWays')}>{current.ways.map((w) => <Tag key={w}>{w}</Tag>)}</Descriptions.Item>
      </Descriptions>
      {current.ways.length === 0 && <Alert type="info" message={t('none')} />}
    </Space>
  );
}
