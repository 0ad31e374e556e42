import { Alert, Button, Descriptions, Form, Input, InputNumber, Modal, Select, Space, Switch } from 'antd';
import { useConsole } from '../App.tsx';
import { clock, parseClock, parsePercentPpm, parseYuan, percentOfPpm, yuan } from '../format.ts';
import { useAction } from '../hooks.ts';
import { useT } from '../i18n.tsx';
import type { PassageRow, PassagesView } from './Passages.tsx';

interface Values { wayCode?: string; ifCode?: string; priority: number; weight: number; minAmount?: string; maxAmount?: string; dailyLimit?: string; windowStart?: string; windowEnd?: string; feeRate: string; enabled: boolean }

const blank = (v: string | undefined) => !v || v.trim() === '';
/** Optional money in yuan → fen (integer, no floats: parseYuan), null when left empty. */
const fen = (v: string | undefined) => (blank(v) ? null : parseYuan(v as string));
const minute = (v: string | undefined) => (blank(v) ? null : parseClock(v as string));

/**
 * Add or edit one pay passage. The channel choices are the channels that declare the chosen way
 * AND are configured for the app (a passage through any other would be skipped by routing), less
 * those that already have a passage for the way. Amounts are typed in yuan and sent in fen, the fee
 * rate in percent and sent in ppm, the window as China-time HH:mm and sent as minutes of the day.
 */
export function PassageForm({ appId, view, editing, wayName, onClose, onSaved }: { appId: string; view: PassagesView; editing: PassageRow | null; wayName: (w: string) => string; onClose: () => void; onSaved: () => void }) {
  const { api } = useConsole();
  const { t } = useT();
  const act = useAction();
  const [form] = Form.useForm<Values>();
  const way = Form.useWatch('wayCode', form);
  const ways = [...new Set(view.channels.flatMap((c) => c.ways.map((w) => w.wayCode)))].sort();
  const taken = new Set(view.passages.filter((p) => p.wayCode === way).map((p) => p.ifCode));
  const choices = view.channels.filter((c) => c.ways.some((w) => w.wayCode === way) && !taken.has(c.ifCode));
  const initial: Partial<Values> = editing
    ? {
        priority: editing.priority, weight: editing.weight, minAmount: yuan(editing.minAmount), maxAmount: yuan(editing.maxAmount), dailyLimit: yuan(editing.dailyLimit),
        windowStart: editing.windowStart === null ? '' : clock(editing.windowStart), windowEnd: editing.windowEnd === null ? '' : clock(editing.windowEnd), feeRate: percentOfPpm(editing.feeRatePpm), enabled: editing.enabled,
      }
    : { priority: 0, weight: 100, feeRate: '0', enabled: true };

  const amountRule = { validator: async (_r: unknown, v: string | undefined) => { if (!blank(v) && !((fen(v) ?? 0) > 0)) throw new Error(t('invalidPositiveAmount')); } };
  const clockRule = { validator: async (_r: unknown, v: string | undefined) => { if (!blank(v) && minute(v) === null) throw new Error(t('invalidClock')); } };

  const submit = async (v: Values) => {
    const settings = {
      priority: v.priority, weight: v.weight, minAmount: fen(v.minAmount), maxAmount: fen(v.maxAmount), dailyLimit: fen(v.dailyLimit),
      windowStart: minute(v.windowStart), windowEnd: minute(v.windowEnd), feeRatePpm: parsePercentPpm(v.feeRate), enabled: v.enabled,
    };
    const ok = editing
      ? await act(() => api.send('PUT', `/apps/${appId}/passages/${editing.passageId}`, settings), t('saved'))
      : await act(() => api.send('POST', `/apps/${appId}/passages`, { wayCode: v.wayCode, ifCode: v.ifCode, ...settings }), t('saved'));
    if (ok) onSaved();
  };

  return (
    <Modal open title={t(editing ? 'editPassage' : 'addPassage')} onCancel={onClose} footer={null} destroyOnHidden width={640}>
      <Form form={form} name="passage" layout="vertical" initialValues={initial} onFinish={submit}>
        {editing ? (
          <Descriptions size="small" column={2} style={{ marginBottom: 12 }}>
            <Descriptions.Item label={t('wayCode')}>{editing.wayCode} {wayName(editing.wayCode)}</Descriptions.Item>
            <Descriptions.Item label={t('ifCode')}>{editing.ifCode} #{editing.passageId}</Descriptions.Item>
          </Descriptions>
        ) : (
          <>
            <Form.Item name="wayCode" label={t('wayCode')} rules={[{ required: true }]}>
              <Select showSearch options={ways.map((w) => ({ value: w, label: `${w} ${wayName(w)}` }))} onChange={() => form.setFieldValue('ifCode', undefined)} />
            </Form.Item>
            {way && choices.length === 0 && <Alert type="warning" showIcon message={t('noChannelForWay')} style={{ marginBottom: 12 }} />}
            <Form.Item name="ifCode" label={t('ifCode')} rules={[{ required: true }]}>
              <Select disabled={!way} options={choices.map((c) => ({ value: c.ifCode, label: `${c.name} (${c.ifCode})` }))} />
            </Form.Item>
          </>
        )}
        <Space size="large" wrap>
          <Form.Item name="priority" label={t('priority')} tooltip={t('priorityHint')} rules={[{ required: true }]}>
            <InputNumber min={-1000} max={1000} precision={0} />
          </Form.Item>
          <Form.Item name="weight" label={t('weight')} rules={[{ required: true }]}>
            <InputNumber min={1} max={1_000_000} precision={0} />
          </Form.Item>
          <Form.Item name="feeRate" label={t('feeRatePercent')} rules={[{ validator: async (_r, v: string | undefined) => { if (parsePercentPpm(v ?? '') === null) throw new Error(t('invalidPercent')); } }]}>
            <Input suffix="%" style={{ width: 140 }} />
          </Form.Item>
          <Form.Item name="enabled" label={t('enabled')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Space>
        <Space size="large" wrap>
          <Form.Item name="minAmount" label={t('minAmountYuan')} rules={[amountRule]}>
            <Input prefix="¥" />
          </Form.Item>
          <Form.Item name="maxAmount" label={t('maxAmountYuan')} dependencies={['minAmount']} rules={[amountRule, ({ getFieldValue }) => ({ validator: async (_r, v: string | undefined) => { const min = fen(getFieldValue('minAmount')); const max = fen(v); if (min !== null && max !== null && min > max) throw new Error(t('minAboveMax')); } })]}>
            <Input prefix="¥" />
          </Form.Item>
          <Form.Item name="dailyLimit" label={t('dailyLimitYuan')} rules={[amountRule]}>
            <Input prefix="¥" />
          </Form.Item>
        </Space>
        <Space size="large" wrap>
          <Form.Item name="windowStart" label={t('windowStart')} rules={[clockRule]}>
            <Input placeholder="22:00" />
          </Form.Item>
          <Form.Item name="windowEnd" label={t('windowEnd')} dependencies={['windowStart']} rules={[clockRule, ({ getFieldValue }) => ({ validator: async (_r, v: string | undefined) => {
            const start = getFieldValue('windowStart') as string | undefined;
            if (blank(start) !== blank(v)) throw new Error(t('windowPair'));
            if (!blank(v) && minute(start) === minute(v)) throw new Error(t('windowEmpty'));
          } })]}>
            <Input placeholder="06:00" />
          </Form.Item>
        </Space>
        <Space>
          <Button type="primary" htmlType="submit">{t('save')}</Button>
          <Button onClick={onClose}>{t('cancel')}</Button>
        </Space>
      </Form>
    </Modal>
  );
}
