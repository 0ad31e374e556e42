-- WeChat Pay Native 模式一 (扫码支付一): products a merchant app sells through static, signed product codes.
-- A payer's scan creates an ordinary pay order from the product's amount, subject and notify URL.
CREATE TABLE wechat_products (
  app_id      text NOT NULL REFERENCES merchant_apps(app_id),
  product_id  text NOT NULL,
  amount      bigint NOT NULL CHECK (amount > 0),
  currency    text NOT NULL DEFAULT 'CNY',
  subject     text NOT NULL,
  body        text NOT NULL DEFAULT '',
  notify_url  text,
  state       smallint NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, product_id)
);
