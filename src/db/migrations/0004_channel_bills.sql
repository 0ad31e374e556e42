-- Channel bills (对账单), one per app, channel and day, with their parsed lines.
CREATE TABLE channel_bills (
  id          bigserial PRIMARY KEY,
  app_id      text NOT NULL REFERENCES merchant_apps(app_id),
  if_code     text NOT NULL,
  bill_date   date NOT NULL,
  hash        text,
  row_count   int NOT NULL,
  summary     jsonb NOT NULL,
  fetched_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (app_id, if_code, bill_date)
);

CREATE TABLE channel_bill_rows (
  bill_id           int8 NOT NULL REFERENCES channel_bills(id) ON DELETE CASCADE,
  line_no           int NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('pay', 'refund')),
  trade_time        text NOT NULL,
  out_trade_no      text NOT NULL,
  channel_order_no  text NOT NULL,
  out_refund_no     text,
  amount            int8 NOT NULL,
  fee               text NOT NULL,
  raw               jsonb NOT NULL,
  PRIMARY KEY (bill_id, line_no)
);
CREATE INDEX channel_bill_rows_order ON channel_bill_rows (out_trade_no);
