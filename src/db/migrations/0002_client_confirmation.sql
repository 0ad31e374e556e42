-- Order confirmation (seed 004): what the payer's client reported after wx.requestPayment.
ALTER TABLE pay_orders ADD COLUMN client_result text CHECK (client_result IN ('ok', 'cancel', 'fail'));
ALTER TABLE pay_orders ADD COLUMN client_reported_at timestamptz;
