-- Idempotency-Key: a mutating request sent again with the same key and the same
-- body gets the first answer again instead of being carried out twice; the same
-- key with another body is refused. Keys are per user.

CREATE TABLE idempotency_keys (
  user_id bigint NOT NULL REFERENCES users (id),
  key text NOT NULL,
  method text NOT NULL,
  path text NOT NULL,
  body_hash text NOT NULL,
  status integer,
  response text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
