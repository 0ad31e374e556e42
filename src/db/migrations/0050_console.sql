-- Consoles (issue 6): operator and merchant users, their sessions, and an audit trail of what they changed.
CREATE TABLE console_users (
  id               bigserial PRIMARY KEY,
  realm            text NOT NULL CHECK (realm IN ('operator', 'merchant')),
  username         text NOT NULL,
  mch_no           text REFERENCES merchants(mch_no),    -- merchant users belong to exactly one merchant
  role             text NOT NULL CHECK (role IN ('admin', 'operations', 'readonly')),
  password_hash    text NOT NULL,                        -- scrypt$N$r$p$salt$hash (node:crypto)
  state            smallint NOT NULL DEFAULT 1 CHECK (state IN (0, 1)),
  failed_attempts  int NOT NULL DEFAULT 0,               -- consecutive wrong passwords
  locked_until     timestamptz,
  last_login_at    timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (realm, username),
  CHECK ((realm = 'merchant') = (mch_no IS NOT NULL))
);

-- Only a hash of the session token is stored: a database read does not yield usable sessions.
CREATE TABLE console_sessions (
  token_hash    text PRIMARY KEY,
  user_id       int8 NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

CREATE TABLE console_audit (
  id          bigserial PRIMARY KEY,
  realm       text NOT NULL,
  user_id     int8,
  username    text NOT NULL,
  mch_no      text,
  action      text NOT NULL,        -- the route, e.g. "POST /orders/:payOrderId/refunds"
  target      text,
  outcome     smallint NOT NULL,    -- HTTP status
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_audit_created ON console_audit (created_at);

-- Console search by the channel's order number and refund lists by date.
CREATE INDEX pay_orders_channel_order_no ON pay_orders (channel_order_no) WHERE channel_order_no IS NOT NULL;
CREATE INDEX refund_orders_created ON refund_orders (created_at);
