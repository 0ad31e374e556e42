-- Polypay schema v1. Runs unchanged on PGlite (PostgreSQL 18 WASM) and PostgreSQL >= 13.
-- Amounts are int8 minor units; every state column has a CHECK mirroring the domain table.

CREATE TABLE merchants (
  mch_no        text PRIMARY KEY,
  name          text NOT NULL,
  short_name    text NOT NULL DEFAULT '',
  type          smallint NOT NULL DEFAULT 1 CHECK (type IN (1, 2)),   -- 1 normal, 2 service-provider sub-merchant
  isv_no        text,
  state         smallint NOT NULL DEFAULT 1 CHECK (state IN (0, 1)),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE merchant_apps (
  app_id          text PRIMARY KEY,
  mch_no          text NOT NULL REFERENCES merchants(mch_no),
  name            text NOT NULL DEFAULT '',
  state           smallint NOT NULL DEFAULT 1 CHECK (state IN (0, 1)),
  app_secret_enc  text NOT NULL,                    -- AES-256-GCM under the master key
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX merchant_apps_mch ON merchant_apps (mch_no);

-- Per-app channel configuration: plain parameters in params, secrets sealed in secrets_enc.
CREATE TABLE channel_configs (
  app_id       text NOT NULL REFERENCES merchant_apps(app_id),
  if_code      text NOT NULL,
  params       jsonb NOT NULL DEFAULT '{}'::jsonb,
  secrets_enc  text NOT NULL,
  state        smallint NOT NULL DEFAULT 1 CHECK (state IN (0, 1)),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, if_code)
);

-- Which channel serves which pay way for an app (the pay passage).
CREATE TABLE app_pay_ways (
  app_id     text NOT NULL REFERENCES merchant_apps(app_id),
  way_code   text NOT NULL,
  if_code    text NOT NULL,
  state      smallint NOT NULL DEFAULT 1 CHECK (state IN (0, 1)),
  PRIMARY KEY (app_id, way_code)
);

CREATE TABLE pay_orders (
  pay_order_id      text PRIMARY KEY,
  mch_no            text NOT NULL,
  app_id            text NOT NULL,
  mch_order_no      text NOT NULL,
  if_code           text NOT NULL,
  way_code          text NOT NULL,
  amount            int8 NOT NULL CHECK (amount > 0),
  currency          text NOT NULL,
  state             smallint NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 6),
  subject           text NOT NULL,
  body              text NOT NULL,
  client_ip         text,
  notify_url        text,
  return_url        text,
  channel_extra     text,
  ext_param         text,
  division_mode     smallint NOT NULL DEFAULT 0,
  request_hash      text NOT NULL,                 -- idempotency: hash of the business parameters
  pay_data_type     text,
  pay_data          text,
  channel_order_no  text,
  channel_user      text,
  err_code          text,
  err_msg           text,
  refund_amount     int8 NOT NULL DEFAULT 0,       -- confirmed refunds
  refund_pending    int8 NOT NULL DEFAULT 0,       -- reserved by refunds in flight
  refund_times      int NOT NULL DEFAULT 0,
  late_success      boolean NOT NULL DEFAULT false, -- paid after we had closed/failed it: surfaced to operators
  expired_at        timestamptz NOT NULL,
  success_at        timestamptz,
  next_check_at     timestamptz,                   -- reconciler: when to ask the channel next (null = nothing to do)
  check_count       int NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (mch_no, mch_order_no),
  CHECK (refund_amount >= 0 AND refund_pending >= 0 AND refund_amount + refund_pending <= amount)
);
CREATE INDEX pay_orders_check ON pay_orders (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX pay_orders_created ON pay_orders (created_at);

CREATE TABLE refund_orders (
  refund_order_id   text PRIMARY KEY,
  pay_order_id      text NOT NULL REFERENCES pay_orders(pay_order_id),
  mch_no            text NOT NULL,
  app_id            text NOT NULL,
  mch_refund_no     text NOT NULL,
  if_code           text NOT NULL,
  way_code          text NOT NULL,
  pay_amount        int8 NOT NULL,
  refund_amount     int8 NOT NULL CHECK (refund_amount > 0),
  currency          text NOT NULL,
  state             smallint NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 4),
  refund_reason     text NOT NULL,
  client_ip         text,
  notify_url        text,
  channel_extra     text,
  ext_param         text,
  request_hash      text NOT NULL,
  channel_order_no  text,
  err_code          text,
  err_msg           text,
  success_at        timestamptz,
  next_check_at     timestamptz,
  check_count       int NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (mch_no, mch_refund_no)
);
CREATE INDEX refund_orders_pay ON refund_orders (pay_order_id);
CREATE INDEX refund_orders_check ON refund_orders (next_check_at) WHERE next_check_at IS NOT NULL;

-- The timeline of an order: every transition and every notable channel exchange.
CREATE TABLE order_events (
  id           bigserial PRIMARY KEY,
  order_type   text NOT NULL CHECK (order_type IN ('pay', 'refund')),
  order_id     text NOT NULL,
  kind         text NOT NULL,            -- transition | channel | callback | refused | notify
  from_state   smallint,
  to_state     smallint,
  source       text NOT NULL,            -- api | callback | query | expiry | close | reconcile | admin
  detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order ON order_events (order_id, id);

-- Transactional outbox of merchant notifications. Written in the transaction of the state change.
CREATE TABLE merchant_notifications (
  id               bigserial PRIMARY KEY,
  order_type       text NOT NULL CHECK (order_type IN ('pay', 'refund')),
  order_id         text NOT NULL,
  event            text NOT NULL,         -- the state reached, e.g. pay.2, refund.2, refund.3
  mch_no           text NOT NULL,
  app_id           text NOT NULL,
  mch_order_no     text NOT NULL,
  url              text NOT NULL,
  body             text NOT NULL,         -- the signed form body, computed once
  state            smallint NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),  -- 0 delivering, 1 delivered, 2 gave up
  attempts         int NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  last_result      text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_type, order_id, event)
);
CREATE INDEX merchant_notifications_due ON merchant_notifications (next_attempt_at) WHERE state = 0;

CREATE TABLE notification_attempts (
  id               bigserial PRIMARY KEY,
  notification_id  int8 NOT NULL REFERENCES merchant_notifications(id),
  attempt_no       int NOT NULL,
  http_status      int,
  result           text NOT NULL,
  duration_ms      int NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (notification_id, attempt_no)
);
