-- Service providers (服务商, ISV): their channel credentials, one row per (isv_no, if_code).
-- A sub-merchant (merchants.type = 2 with merchants.isv_no) pays through them; what belongs to
-- the sub-merchant alone (Alipay: its app_auth_token) stays in its app's channel_configs row,
-- laid over the provider's parameters when the configuration is read (services/tenancy.ts).
CREATE TABLE isv_channel_configs (
  isv_no       text NOT NULL,
  if_code      text NOT NULL,
  name         text NOT NULL DEFAULT '',
  params       jsonb NOT NULL DEFAULT '{}'::jsonb,
  secrets_enc  text NOT NULL,                     -- AES-256-GCM under the master key
  state        smallint NOT NULL DEFAULT 1 CHECK (state IN (0, 1)),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (isv_no, if_code)
);
