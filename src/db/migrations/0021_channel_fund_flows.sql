-- Channel fund-flow bills (资金账单): money movements of one merchant account per app, channel, day and account.
CREATE TABLE channel_fund_flows (
  id            bigserial PRIMARY KEY,
  app_id        text NOT NULL REFERENCES merchant_apps(app_id),
  if_code       text NOT NULL,
  bill_date     date NOT NULL,
  account_type  text NOT NULL,
  hash          text,
  row_count     int NOT NULL,
  summary       jsonb NOT NULL,
  fetched_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (app_id, if_code, bill_date, account_type)
);

CREATE TABLE channel_fund_flow_rows (
  flow_id           int8 NOT NULL REFERENCES channel_fund_flows(id) ON DELETE CASCADE,
  line_no           int NOT NULL,
  entry_time        text NOT NULL,
  channel_order_no  text NOT NULL,
  flow_no           text NOT NULL,
  business_name     text NOT NULL,
  business_type     text NOT NULL,
  direction         text NOT NULL CHECK (direction IN ('IN', 'OUT')),
  amount            bigint NOT NULL,
  balance           bigint NOT NULL,
  raw               jsonb NOT NULL,
  PRIMARY KEY (flow_id, line_no)
);
