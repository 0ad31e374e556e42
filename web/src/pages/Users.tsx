import { App, Button, Card, Form, Input, Popconfirm, Select, Space, Switch, Table, Tag } from 'antd';
import { useConsole } from '../App.tsx';
import { showOnce } from '../components.tsx';
import { dateTime } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';

interface UserRow { id: number; username: string; role: string; state: number; mchNo: string | null; lastLoginAt: string | null; lockedUntil: string | null }

/** Users of this realm (or of one merchant, from the operator console); new passwords are shown once. */
export function UserTable({ listPath, createPath, manage }: { listPath: string; createPath: string; manage: boolean }) {
  const { api, session } = useConsole();
  const { t } = useT();
  const { modal } = App.useApp();
  const act = useAction();
  const [form] = Form.useForm();
  const { data, loading, reload } = useLoad(() => api.get<{ users: UserRow[] }>(listPath), [listPath]);
  const roles = ['admin', 'operations', 'readonly'] as const;
  const create = async (v: { username: string; role: string }) => {
    const r = await act(() => api.send<{ password: string }>('POST', createPath, v));
    if (!r) return;
    showOnce(modal, t('newUser'), t('passwordOnce'), [[t('username'), v.username], [t('password'), r.password]]);
    form.resetFields();
    reload();
  };
  const patch = async (id: number, body: object) => {
    if (await act(() => api.send('PATCH', `/users/${id}`, body), t('saved'))) reload();
  };
  const reset = async (u: UserRow) => {
    const r = await act(() => api.send<{ password: string }>('POST', `/users/${u.id}/password`));
    if (r) showOnce(modal, t('resetPassword'), t('passwordOnce'), [[t('username'), u.username], [t('password'), r.password]]);
  };
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Form form={form} layout="inline" name="newUser" onFinish={create}>
        <Form.Item name="username" rules={[{ required: true, pattern: /^[0-9A-Za-z_.@-]{2,64}$/ }]}><Input placeholder={t('username')} /></Form.Item>
        <Form.Item name="role" initialValue="readonly"><Select style={{ width: 140 }} options={roles.map((r) => ({ value: r, label: t(r) }))} /></Form.Item>
        <Button type="primary" htmlType="submit">{t('newUser')}</Button>
      </Form>
      <Table<UserRow>
        rowKey="id"
        size="small"
        loading={loading}
        dataSource={data?.users}
        columns={[
          { title: t('username'), dataIndex: 'username' },
          {
            title: t('role'),
            dataIndex: 'role',
            render: (role: string, u) => (manage && u.id !== session.user.id ? <Select size="small" value={role} style={{ width: 130 }} onChange={(r) => patch(u.id, { role: r })} options={roles.map((r) => ({ value: r, label: t(r) }))} /> : <Tag>{t(role as 'admin')}</Tag>),
          },
          { title: t('state'), dataIndex: 'state', render: (s: number, u) => (manage && u.id !== session.user.id ? <Switch size="small" checked={s === 1} onChange={(on) => patch(u.id, { state: on ? 1 : 0 })} /> : <Tag>{t(s === 1 ? 'enabled' : 'disabled')}</Tag>) },
          { title: t('lastLogin'), dataIndex: 'lastLoginAt', render: dateTime },
          { title: '', render: (_: unknown, u) => manage && <Popconfirm title={t('resetPassword')} onConfirm={() => reset(u)}><Button size="small">{t('resetPassword')}</Button></Popconfirm> },
        ]}
      />
    </Space>
  );
}

export function Users() {
  const { t } = useT();
  return (
    <Card title={t('users')}>
      <UserTable listPath="/users" createPath="/users" manage />
    </Card>
  );
}
