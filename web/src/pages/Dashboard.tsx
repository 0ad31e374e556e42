import { Card, Col, Row, Statistic, Table } from 'antd';
import { Bar, BarChart, CartesianGrid, Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useConsole } from '../App.tsx';
import { yuan } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';

interface Figures { orders: number; paidOrders: number; paidAmount: number; refundAmount: number; successPermille: number | null }
interface Split { orders: number; paidOrders: number; paidAmount: number }
interface DashboardData { today: Figures; last7Days: Figures; days: Array<Split & { day: string }>; byWay: Array<Split & { wayCode: string }>; byChannel: Array<Split & { ifCode: string }> }

const COLORS = ['#1677ff', '#52c41a', '#faad14', '#eb2f96', '#722ed1', '#13c2c2', '#fa541c', '#2f54eb'];

function FigureCards({ title, f }: { title: string; f: Figures }) {
  const { t } = useT();
  const rate = f.successPermille === null ? '—' : `${Math.trunc(f.successPermille / 10)}.${f.successPermille % 10}%`;
  return (
    <Card title={title} size="small">
      <Row gutter={16}>
        <Col span={5}><Statistic title={t('paidAmount')} value={`¥${yuan(f.paidAmount)}`} /></Col>
        <Col span={5}><Statistic title={t('paidOrders')} value={f.paidOrders} /></Col>
        <Col span={5}><Statistic title={t('orderCount')} value={f.orders} /></Col>
        <Col span={5}><Statistic title={t('refundAmount')} value={`¥${yuan(f.refundAmount)}`} /></Col>
        <Col span={4}><Statistic title={t('successRate')} value={rate} /></Col>
      </Row>
    </Card>
  );
}

/** Figures are aggregated by the server in SQL; amounts stay integer fen and are only printed as yuan. */
export function Dashboard() {
  const { api } = useConsole();
  const { t } = useT();
  const { data } = useLoad(() => api.get<DashboardData>('/dashboard'), []);
  if (!data) return null;
  const money = (v: unknown) => `¥${yuan(Number(v))}`;
  const splitColumns = (key: 'wayCode' | 'ifCode') => [
    { title: t(key), dataIndex: key },
    { title: t('orderCount'), dataIndex: 'orders' },
    { title: t('paidOrders'), dataIndex: 'paidOrders' },
    { title: t('paidAmount'), dataIndex: 'paidAmount', render: money },
  ];
  return (
    <Row gutter={[16, 16]} data-testid="dashboard">
      <Col span={24}><FigureCards title={t('today')} f={data.today} /></Col>
      <Col span={24}><FigureCards title={t('last7')} f={data.last7Days} /></Col>
      <Col xs={24} xl={12}>
        <Card title={t('daily')} size="small">
          <ResponsiveContainer width="100%" height={260}>
            <BarChart data={data.days}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis tickFormatter={(v) => yuan(Number(v))} />
              <Tooltip formatter={(v, name) => (name === t('paidAmount') ? money(v) : String(v))} />
              <Legend />
              <Bar dataKey="paidAmount" name={t('paidAmount')} fill="#1677ff" />
            </BarChart>
          </ResponsiveContainer>
        </Card>
      </Col>
      <Col xs={24} xl={12}>
        <Card title={`${t('byWay')} · ${t('paidAmount')}`} size="small">
          <ResponsiveContainer width="100%" height={260}>
            <PieChart>
              <Pie data={data.byWay} dataKey="paidAmount" nameKey="wayCode" outerRadius={90} label={(e) => String(e.name)}>
                {data.byWay.map((w, i) => <Cell key={w.wayCode} fill={COLORS[i % COLORS.length]} />)}
              </Pie>
              <Tooltip formatter={(v) => money(v)} />
            </PieChart>
          </ResponsiveContainer>
        </Card>
      </Col>
      <Col xs={24} xl={12}><Card title={t('byWay')} size="small"><Table rowKey="wayCode" size="small" pagination={false} dataSource={data.byWay} columns={splitColumns('wayCode')} /></Card></Col>
      <Col xs={24} xl={12}><Card title={t('byChannel')} size="small"><Table rowKey="ifCode" size="small" pagination={false} dataSource={data.byChannel} columns={splitColumns('ifCode')} /></Card></Col>
    </Row>
  );
}
