import { Alert, Modal, Tag, Typography } from 'antd';
import { NOTIFY_STATES, PAY_STATES, REFUND_STATES, useT } from './i18n.tsx';

const PAY_COLORS: Record<number, string> = { 0: 'default', 1: 'processing', 2: 'success', 3: 'error', 4: 'warning', 5: 'purple', 6: 'default' };
const REFUND_COLORS: Record<number, string> = { 0: 'default', 1: 'processing', 2: 'success', 3: 'error', 4: 'default' };
const NOTIFY_COLORS: Record<number, string> = { 0: 'processing', 1: 'success', 2: 'error' };

export function StateTag({ kind, state }: { kind: 'pay' | 'refund' | 'notify'; state: number }) {
  const { pick } = useT();
  const [names, colors] = kind === 'pay' ? [PAY_STATES, PAY_COLORS] : kind === 'refund' ? [REFUND_STATES, REFUND_COLORS] : [NOTIFY_STATES, NOTIFY_COLORS];
  return (
    <Tag color={colors[state]} data-state={state}>
      {state} {pick(names[state])}
    </Tag>
  );
}

/** A secret or password in the one answer that carries it: shown once, copyable, gone when closed. */
export function showOnce(modal: ReturnType<typeof import('antd').App.useApp>['modal'], title: string, warning: string, fields: Array<[string, string]>) {
  modal.info({
    title,
    width: 640,
    content: (
      <div data-testid="shown-once">
        <Alert type="warning" message={warning} style={{ marginBottom: 12 }} />
        {fields.map(([label, value]) => (
          <div key={label}>
            <Typography.Text type="secondary">{label}</Typography.Text>
            <Typography.Paragraph copyable code data-testid={`once-${label}`}>
              {value}
            </Typography.Paragraph>
          </div>
        ))}
      </div>
    ),
  });
}

export function JsonBlock({ value }: { value: unknown }) {
  if (value === null || value === undefined || (typeof value === 'object' && Object.keys(value as object).length === 0)) return null;
  return <pre style={{ margin: 0, fontSize: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>{JSON.stringify(value, null, 1)}</pre>;
}

export { Modal };

export interface Paging {
  page: number;
  pageSize: number;
}

/** The pager of the list pages: pages kept in the filter state, the total from the server. */
export function pagination<F extends Paging>(filter: F, setFilter: (f: F) => void, total: number | undefined, t: (k: 'total', v: { n: number }) => string) {
  return { current: filter.page, pageSize: filter.pageSize, total, showTotal: (n: number) => t('total', { n }), onChange: (page: number, pageSize: number) => setFilter({ ...filter, page, pageSize }) };
}
