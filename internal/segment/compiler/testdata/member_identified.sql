SELECT (EXISTS (SELECT DISTINCT entity_key AS u FROM identities WHERE site_id = ? AND entity_key = ? AND kind = 1)) AND (EXISTS (SELECT entity_key AS u FROM attr_current WHERE site_id = ? AND entity_key = ? AND entity = 0 AND key = ? AND s = ?))
-- args:
-- $1 = 7
-- $2 = 42
-- $3 = 7
-- $4 = 42
-- $5 = "plan"
-- $6 = "pro"
