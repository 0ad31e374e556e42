import { createContext, useContext, useEffect, useMemo, useState } from 'react';
import { App as AntApp, Button, ConfigProvider, Layout, Menu, Space, Spin, Tag, Typography } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import { HashRouter, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { type Api, type Realm, createApi } from './api.ts';
import { type Lang, LangContext, type MessageKey, translate } from './i18n.tsx';
import { SignIn } from './SignIn.tsx';
import { Dashboard } from './pages/Dashboard.tsx';
import { Merchants } from './pages/Merchants.tsx';
import { MerchantDetail } from './pages/MerchantDetail.tsx';
import { ServiceProviders } from './pages/ServiceProviders.tsx';
import { Apps } from './pages/Apps.tsx';
import { Orders } from './pages/Orders.tsx';
import { OrderDetail } from './pages/OrderDetail.tsx';
import { Refunds } from './pages/Refunds.tsx';
import { Notifications } from './pages/Notifications.tsx';
import { PayTest } from './pages/PayTest.tsx';
import { Users } from './pages/Users.tsx';
import { Sandbox } from './pages/Sandbox.tsx';
import { Account } from './pages/Account.tsx';
import { Audit } from './pages/Audit.tsx';
import { Passages } from './pages/Passages.tsx';

export interface Session {
  realm: Realm;
  user: { id: number; username: string; role: 'admin' | 'operations' | 'readonly'; mchNo: string | null };
  csrfToken: string;
}

interface ConsoleContextValue {
  api: Api;
  session: Session;
  /** What the signed-in role may do; the server enforces the same rules (src/console/rbac.ts). */
  can: { operate: boolean; administer: boolean };
}

const ConsoleContext = createContext<ConsoleContextValue | null>(null);

export function useConsole(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error('useConsole outside the console');
  return value;
}

const MENU: Array<{ path: string; key: MessageKey; realms: Realm[]; admin?: boolean }> = [
  { path: '/dashboard', key: 'dashboard', realms: ['operator', 'merchant'] },
  { path: '/merchants', key: 'merchants', realms: ['operator'] },
  { path: '/providers', key: 'providers', realms: ['operator'] },
  { path: '/apps', key: 'apps', realms: ['merchant'] },
  { path: '/orders', key: 'orders', realms: ['operator', 'merchant'] },
  { path: '/refunds', key: 'refunds', realms: ['operator', 'merchant'] },
  { path: '/notifications', key: 'notifications', realms: ['operator', 'merchant'] },
  { path: '/pay-test', key: 'payTest', realms: ['operator', 'merchant'] },
  { path: '/users', key: 'users', realms: ['operator', 'merchant'], admin: true },
  { path: '/audit', key: 'audit', realms: ['operator'], admin: true },
  { path: '/sandbox', key: 'sandbox', realms: ['operator', 'merchant'] },
  { path: '/account', key: 'account', realms: ['operator', 'merchant'] },
];

function Shell({ lang, setLang, onSignOut }: { lang: Lang; setLang: (l: Lang) => void; onSignOut: () => void }) {
  const { session, can } = useConsole();
  const navigate = useNavigate();
  const location = useLocation();
  const t = (k: MessageKey) => translate(lang, k);
  const items = MENU.filter((m) => m.realms.includes(session.realm) && (!m.admin || can.administer)).map((m) => ({ key: m.path, label: t(m.key) }));
  const selected = items.find((i) => location.pathname.startsWith(i.key))?.key ?? '/dashboard';
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light">
        <Typography.Title level={5} style={{ padding: '16px 16px 0' }}>
          {t(session.realm === 'operator' ? 'appOperator' : 'appMerchant')}
        </Typography.Title>
        <Menu mode="inline" selectedKeys={[selected]} items={items} onClick={(e) => navigate(e.key)} />
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', display: 'flex', justifyContent: 'flex-end', alignItems: 'center' }}>
          <Space>
            {session.user.mchNo && <Tag color="blue">{session.user.mchNo}</Tag>}
            <span data-testid="current-user">{session.user.username}</span>
            <Tag>{t(session.user.role)}</Tag>
            <Button size="small" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>{t('language')}</Button>
            <Button size="small" onClick={onSignOut}>{t('signOut')}</Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ margin: 16 }}>
          <Routes>
            <Route path="/dashboard" element={<Dashboard />} />
            <Route path="/merchants" element={<Merchants />} />
            <Route path="/merchants/:mchNo" element={<MerchantDetail />} />
            <Route path="/providers" element={<ServiceProviders />} />
            <Route path="/apps" element={<Apps />} />
            <Route path="/apps/:appId/passages" element={<Passages />} />
            <Route path="/orders" element={<Orders />} />
            <Route path="/orders/:payOrderId" element={<OrderDetail />} />
            <Route path="/refunds" element={<Refunds />} />
            <Route path="/notifications" element={<Notifications />} />
            <Route path="/pay-test" element={<PayTest />} />
            <Route path="/users" element={<Users />} />
            <Route path="/audit" element={<Audit />} />
            <Route path="/sandbox" element={<Sandbox />} />
            <Route path="/account" element={<Account onPasswordChanged={onSignOut} />} />
            <Route path="*" element={<Navigate to="/dashboard" replace />} />
          </Routes>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

export function RealmApp({ realm }: { realm: Realm }) {
  const api = useMemo(() => createApi(realm), [realm]);
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem('polypay.lang') === 'en' ? 'en' : 'zh'));
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const setLang = (l: Lang) => {
    localStorage.setItem('polypay.lang', l);
    setLangState(l);
  };
  const adopt = (s: Session | null) => {
    api.setCsrf(s?.csrfToken ?? null);
    setSession(s);
  };
  useEffect(() => {
    api.onUnauthorized = () => adopt(null);
    api.get<Session>('/session').then(adopt, () => adopt(null));
  }, [api]);
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = translate(lang, realm === 'operator' ? 'appOperator' : 'appMerchant');
  }, [lang, realm]);
  const signOut = () => {
    api.send('DELETE', '/session').finally(() => adopt(null));
  };
  const role = session?.user.role;
  return (
    <LangContext.Provider value={lang}>
      <ConfigProvider locale={lang === 'zh' ? zhCN : enUS} button={{ autoInsertSpace: false }}>
        <AntApp>
          {session === undefined ? (
            <Spin style={{ marginTop: 120, width: '100%' }} />
          ) : session === null ? (
            <SignIn api={api} realm={realm} lang={lang} setLang={setLang} onSignedIn={adopt} />
          ) : (
            <ConsoleContext.Provider value={{ api, session, can: { operate: role === 'admin' || role === 'operations', administer: role === 'admin' } }}>
              <HashRouter>
                <Shell lang={lang} setLang={setLang} onSignOut={signOut} />
              </HashRouter>
            </ConsoleContext.Provider>
          )}
        </AntApp>
      </ConfigProvider>
    </LangContext.Provider>
  );
}
