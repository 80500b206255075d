-- The x-request-id of the call that enqueued a row: deliveries carry it, so
-- one id finds a request in the sender's and the receiver's logs.
ALTER TABLE outbox ADD COLUMN origin_request_id VARCHAR(128) NOT NULL DEFAULT '';
