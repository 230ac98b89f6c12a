SELECT u FROM (SELECT entity_key AS u FROM attr_current WHERE site_id = ? AND entity = 0 AND key IN (?) AND ((key = ? AND n > ? AND key = ? AND n < ?)))
-- args:
-- $1 = 7
-- $2 = "ltv"
-- $3 = "ltv"
-- $4 = 0
-- $5 = "ltv"
-- $6 = 100
