-- The hourly limit on cases opened by mail ([mail] max_cases_per_hour) counts a user's recent
-- deliveries on every authenticated message (Store::mail_delivery_times). Without this index
-- that is a scan of the whole table (82 ms at 200,000 deliveries, growing with the table); with
-- it, a short range read newest first.
CREATE INDEX mail_deliveries_user_received ON mail_deliveries (user_id, received_at DESC);
