-- The cases about one certificate, in ID order: Path.OneOpen looks for a
-- suspension in progress before opening one, and a certificate that leaves
-- (returned, cancelled, voided) ends its open suspension (EventDef.Follows).
-- Without it both read every case.
CREATE INDEX cases_certificate ON cases(certificate_id, id);
