-- Evidence a partner (or finance) attaches to a claim: a proof of sale, a
-- marketing invoice, a photo. Kept with the claim, never changed.
CREATE TABLE claim_attachments (
  id bigserial PRIMARY KEY,
  claim_id bigint NOT NULL REFERENCES claims (id),
  file_name text NOT NULL,
  content_type text NOT NULL,
  size integer NOT NULL,
  sha256 text NOT NULL,
  content bytea NOT NULL,
  uploaded_by text NOT NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claim_attachments_claim_idx ON claim_attachments (claim_id, id);
