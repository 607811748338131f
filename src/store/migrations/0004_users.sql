-- Users, their roles and their credentials. A partner user is tied to one
-- partner or one buying group and sees only that partner's (or group's) data.
-- Passwords are kept only as scrypt hashes; sessions and API tokens only as the
-- SHA-256 of the token, so a copy of the database opens no account.

CREATE TABLE users (
  id bigserial PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{0,99}$'),
  display_name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'commercial', 'sales', 'finance', 'auditor', 'partner')),
  partner_id text REFERENCES partners (id),
  buying_group text,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz,
  CHECK ((role = 'partner') = (num_nonnulls(partner_id, buying_group) = 1)),
  CHECK (role = 'partner' OR (partner_id IS NULL AND buying_group IS NULL))
);

CREATE TABLE credentials (
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  kind text NOT NULL CHECK (kind IN ('session', 'api_token')),
  name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX credentials_user_idx ON credentials (user_id);
