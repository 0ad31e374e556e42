import { useEffect, useState } from 'react';
import { Alert, Button, Card, Col, Descriptions, Form, Input, Row, Select, Space, Typography } from 'antd';
import { Link } from 'react-router';
import { useConsole } from '../App.tsx';
import { StateTag } from '../components.tsx';
import { newReference, parseYuan } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { useT } from '../i18n.tsx';

interface AppRow { appId: string; mchNo: string; name: string; ways: Record<string, string> }
interface PayTestResult { payOrderId: string; orderState: number; payDataType?: string; payData?: string; errCode?: string; errMsg?: string; clientToken: string; qrImageUrl?: string; sandboxPayerUrl?: string }
interface FormValues { appId: string; wayCode: string; amount: string; subject: string; notifyUrl?: string; returnUrl?: string; openid?: string; channelExtra?: string }

/** Follows the order over the gateway's public Server-Sent Events stream (the same one payer pages use). */
function useLiveState(result: PayTestResult | null): number | null {
  const [state, setState] = useState<number | null>(null);
  useEffect(() => {
    if (!result) return;
    setState(result.orderState);
    const es = new EventSource(`/api/pay/client/events/${encodeURIComponent(result.payOrderId)}?token=${encodeURIComponent(result.clientToken)}`);
    es.addEventListener('order', (e) => setState((JSON.parse((e as MessageEvent<string>).data) as { state: number }).state));
    es.onerror = () => es.close();
    return () => es.close();
  }, [result]);
  return state;
}

/**
 * Creates an order in any enabled way through the merchant API's own unified-order service and
 * shows what the merchant's server would get (QR code, JSAPI parameters, pay URL) and the state live.
 */
export function PayTest() {
  const { api } = useConsole();
  const { t } = useT();
  const act = useAction();
  const [form] = Form.useForm<FormValues>();
  const [result, setResult] = useState<PayTestResult | null>(null);
  const apps = useLoad(() => api.get<{ apps: AppRow[] }>('/apps'), []);
  const appId = Form.useWatch('appId', form);
  const wayCode = Form.useWatch('wayCode', form);
  const app = apps.data?.apps.find((a) => a.appId === appId);
  const live = useLiveState(result);
  useEffect(() => {
    if (!appId && apps.data?.apps[0]) form.setFieldValue('appId', apps.data.apps[0].appId);
  }, [apps.data, appId, form]);

  const submit = async (v: FormValues) => {
    const amount = parseYuan(v.amount);
    if (amount === null) return;
    let extra: Record<string, unknown> = {};
    if (v.channelExtra?.trim()) {
      try {
        extra = JSON.parse(v.channelExtra) as Record<string, unknown>;
      } catch {
        form.setFields([{ name: 'channelExtra', errors: ['JSON'] }]);
        return;
      }
    }
    if (v.openid?.trim()) extra.openid = v.openid.trim();
    const body = { appId: v.appId, wayCode: v.wayCode, amount, subject: v.subject, mchOrderNo: newReference('TEST'), notifyUrl: v.notifyUrl?.trim() || undefined, returnUrl: v.returnUrl?.trim() || undefined, channelExtra: Object.keys(extra).length ? JSON.stringify(extra) : undefined };
    const r = await act(() => api.send<PayTestResult>('POST', '/pay-test', body));
    if (r) setResult(r);
  };

  return (
    <Row gutter={16}>
      <Col xs={24} xl={10}>
        <Card title={t('payTest')}>
          <Form form={form} layout="vertical" name="payTest" onFinish={submit} initialValues={{ amount: '0.01', subject: '支付测试 Polypay' }}>
            <Form.Item name="appId" label={t('app')} rules={[{ required: true }]}>
              <Select options={apps.data?.apps.map((a) => ({ value: a.appId, label: `${a.mchNo} · ${a.appId}${a.name ? ` · ${a.name}` : ''}` }))} onChange={() => form.setFieldValue('wayCode', undefined)} />
            </Form.Item>
            <Form.Item name="wayCode" label={t('wayCode')} rules={[{ required: true }]}>
              <Select options={Object.entries(app?.ways ?? {}).map(([w, ifCode]) => ({ value: w, label: `${w} (${ifCode})` }))} />
            </Form.Item>
            <Form.Item name="amount" label={t('amountYuan')} rules={[{ required: true }, { validator: async (_r, v: string) => { const f = parseYuan(v ?? ''); if (f === null || f <= 0) throw new Error(t('invalidAmount')); } }]}><Input /></Form.Item>
            <Form.Item name="subject" label={t('subject')} rules={[{ required: true, max: 64 }]}><Input /></Form.Item>
            {(wayCode === 'WX_JSAPI' || wayCode === 'WX_LITE') && <Form.Item name="openid" label={t('openid')} rules={[{ required: true }]}><Input /></Form.Item>}
            <Form.Item name="notifyUrl" label={t('notifyUrl')}><Input placeholder="http://127.0.0.1:9219/notify" /></Form.Item>
            <Form.Item name="returnUrl" label={t('returnUrl')}><Input /></Form.Item>
            <Form.Item name="channelExtra" label={t('channelExtra')}><Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} placeholder='{"payDataType":"codeImgUrl"}' /></Form.Item>
            <Button type="primary" htmlType="submit">{t('pay')}</Button>
          </Form>
        </Card>
      </Col>
      <Col xs={24} xl={14}>
        {result && (
          <Card title={<span>{t('liveState')}: <span data-testid="live-state">{live !== null && <StateTag kind="pay" state={live} />}</span></span>}>
            <Space direction="vertical" style={{ width: '100%' }}>
              <Descriptions size="small" column={1} bordered>
                <Descriptions.Item label={t('payOrderId')}><Link to={`/orders/${result.payOrderId}`} data-testid="pay-test-order">{result.payOrderId}</Link></Descriptions.Item>
                <Descriptions.Item label="payDataType">{result.payDataType}</Descriptions.Item>
                <Descriptions.Item label={t('payData')}><Typography.Paragraph copyable code style={{ wordBreak: 'break-all', margin: 0 }} data-testid="pay-data">{result.payData}</Typography.Paragraph></Descriptions.Item>
                {result.errCode && <Descriptions.Item label="errCode">{result.errCode} {result.errMsg}</Descriptions.Item>}
              </Descriptions>
              {result.qrImageUrl && <img src={result.qrImageUrl} alt={t('notBuiltQr')} width={220} height={220} data-testid="pay-qr" />}
              {result.sandboxPayerUrl && <a href={result.sandboxPayerUrl} target="_blank" rel="noreferrer noopener" data-testid="sandbox-payer-link">{t('openSandboxPayer')}</a>}
              {result.orderState === 3 && <Alert type="error" message={`${result.errCode ?? ''} ${result.errMsg ?? ''}`} />}
            </Space>
          </Card>
        )}
      </Col>
    </Row>
  );
}
