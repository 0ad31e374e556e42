-- Payers as channels identify them (WeChat openid per WeChat appid), per merchant app.
CREATE TABLE channel_users (
  app_id         text NOT NULL REFERENCES merchant_apps(app_id),
  if_code        text NOT NULL,
  channel_app_id text NOT NULL,
  user_id        text NOT NULL,     -- openid / buyer id
  union_id       text,
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, if_code, channel_app_id, user_id)
);
