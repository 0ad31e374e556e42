import { Button, Card, Form, Input } from 'antd';
import { useConsole } from '../App.tsx';
import { useAction } from '../hooks.ts';
import { useT } from '../i18n.tsx';

export function Account({ onPasswordChanged }: { onPasswordChanged: () => void }) {
  const { api, session } = useConsole();
  const { t } = useT();
  const act = useAction();
  const change = async (v: { currentPassword: string; newPassword: string }) => {
    if (await act(() => api.send('POST', '/me/password', v), t('saved'))) onPasswordChanged();
  };
  return (
    <Card title={`${t('account')} · ${session.user.username}`}>
      <Form layout="vertical" name="password" onFinish={change} style={{ maxWidth: 400 }}>
        <Form.Item name="currentPassword" label={t('currentPassword')} rules={[{ required: true }]}><Input.Password autoComplete="current-password" /></Form.Item>
        <Form.Item name="newPassword" label={t('newPassword')} rules={[{ required: true, min: 10 }]}><Input.Password autoComplete="new-password" /></Form.Item>
        <Button type="primary" htmlType="submit">{t('changePassword')}</Button>
      </Form>
    </Card>
  );
}
