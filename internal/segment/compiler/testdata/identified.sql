SELECT u FROM (SELECT DISTINCT entity_key AS u FROM identities WHERE site_id = ? AND kind = 1) AS a WHERE u IN (SELECT u FROM (SELECT DISTINCT entity_key AS u FROM identities WHERE site_id = ? AND kind IN (1, 2)) AS a WHERE u NOT IN (SELECT entity_key AS u FROM attr_current WHERE site_id = ? AND entity = 0 AND key = ? AND s = ?))
-- args:
-- $1 = 7
-- $2 = 7
-- $3 = 7
-- $4 = "plan"
-- $5 = "pro"
