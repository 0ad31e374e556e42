-- Pay passages (issue 8): a merchant app binds each pay way to one or more channels, with
-- priority, weight, limits, a time window and a fee rate. Replaces app_pay_ways (one channel per way).
CREATE TABLE pay_passages (
  passage_id    bigserial PRIMARY KEY,
  app_id        text NOT NULL REFERENCES merchant_apps(app_id),
  way_code      text NOT NULL,
  if_code       text NOT NULL,
  priority      int NOT NULL DEFAULT 0,
  weight        int NOT NULL DEFAULT 100 CHECK (weight BETWEEN 1 AND 1000000),
  min_amount    int8 CHECK (min_amount > 0),
  max_amount    int8 CHECK (max_amount > 0),
  daily_limit   int8 CHECK (daily_limit > 0),
  window_start  smallint CHECK (window_start BETWEEN 0 AND 1439),
  window_end    smallint CHECK (window_end BETWEEN 0 AND 1439),
  fee_rate_ppm  int NOT NULL DEFAULT 0 CHECK (fee_rate_ppm BETWEEN 0 AND 1000000),
  state         smallint NOT NULL DEFAULT 1 CHECK (state IN (0, 1)),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (app_id, way_code, if_code),
  CHECK (min_amount IS NULL OR max_amount IS NULL OR min_amount <= max_amount),
  CHECK ((window_start IS NULL) = (window_end IS NULL))
);
INSERT INTO pay_passages (app_id, way_code, if_code, state) SELECT app_id, way_code, if_code, state FROM app_pay_ways;
DROP TABLE app_pay_ways;

-- Daily limits: amounts reserved per passage and China-time day, taken atomically at routing.
CREATE TABLE passage_daily_usage (
  passage_id  int8 NOT NULL REFERENCES pay_passages(passage_id) ON DELETE CASCADE,
  day         date NOT NULL,
  amount      int8 NOT NULL DEFAULT 0 CHECK (amount >= 0),
  orders      int NOT NULL DEFAULT 0,
  PRIMARY KEY (passage_id, day)
);

-- What operators must see: circuit breaker trips and recoveries.
CREATE TABLE passage_events (
  id          bigserial PRIMARY KEY,
  passage_id  int8 NOT NULL,
  kind        text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX passage_events_passage ON passage_events (passage_id, id);

-- The route and the fee are snapshotted on the order.
ALTER TABLE pay_orders ADD COLUMN passage_id int8;
ALTER TABLE pay_orders ADD COLUMN fee_rate_ppm int;
ALTER TABLE pay_orders ADD COLUMN fee_amount int8 CHECK (fee_amount >= 0);
