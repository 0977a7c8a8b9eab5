-- A document shows its case as the event that queued it left it, however
-- late it renders (renderer down, a failed document rendered again): the
-- case's data and certificate are kept with the document. NULL for
-- documents queued before: they render from the case as it is.
ALTER TABLE documents ADD COLUMN case_data TEXT;
ALTER TABLE documents ADD COLUMN case_certificate_id BIGINT;
