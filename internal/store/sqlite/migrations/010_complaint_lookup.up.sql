-- The complainant's way back to a complaint filed online (Art. 20): the
-- SHA-256 of the lookup code the public intake gave them, and the case.
-- The case data keeps the hash too; here it is a key, so the public
-- status lookup reads one row. Only complaints the public intake filed
-- (its user, public-intake) had a code; an office could type a hash into
-- a complaint's data, which is no code given to anyone.
CREATE TABLE complaint_lookups (
    hash    TEXT PRIMARY KEY,
    case_id BIGINT NOT NULL UNIQUE REFERENCES cases(id)
);
INSERT OR IGNORE INTO complaint_lookups (hash, case_id)
SELECT json_extract(data, '$.lookup_hash'), id FROM cases
WHERE path = 'complaint' AND COALESCE(json_extract(data, '$.lookup_hash'), '') <> ''
  AND preparer_user_id = (SELECT id FROM users WHERE name = 'public-intake')
ORDER BY id;
