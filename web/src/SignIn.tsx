import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Space } from 'antd';
import type { Api, Realm } from './api.ts';
import type { Session } from './App.tsx';
import { type Lang, translate } from './i18n.tsx';

export function SignIn({ api, realm, lang, setLang, onSignedIn }: { api: Api; realm: Realm; lang: Lang; setLang: (l: Lang) => void; onSignedIn: (s: Session) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const t = (k: Parameters<typeof translate>[1]) => translate(lang, k);
  const submit = async (v: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.send<Session>('POST', '/session', v));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ display: 'flex', justifyContent: 'center', paddingTop: 100, background: '#f5f5f5', minHeight: '100vh' }}>
      <Card title={t(realm === 'operator' ? 'appOperator' : 'appMerchant')} style={{ width: 380, height: 'fit-content' }} extra={<Button size="small" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>{t('language')}</Button>}>
        <Form layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item name="username" label={t('username')} rules={[{ required: true }]}>
            <Input autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label={t('password')} rules={[{ required: true }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Space direction="vertical" style={{ width: '100%' }}>
            {error && <Alert type="error" message={error} role="alert" />}
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('signIn')}
            </Button>
          </Space>
        </Form>
      </Card>
    </div>
  );
}
