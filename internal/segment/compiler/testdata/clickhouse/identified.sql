SELECT u FROM (SELECT DISTINCT entity_key AS u FROM (SELECT if(o.into_key = 0, x.entity_key, o.into_key) AS entity_key, x.kind AS kind, x.external_id AS external_id, x.created_at AS created_at FROM identities AS x ANY LEFT JOIN (SELECT from_key, into_key, merged_seq FROM identity_overrides FINAL WHERE site_id = ?) AS o ON x.entity_key = o.from_key WHERE x.site_id = ? AND kind = 1)) AS a WHERE u IN (SELECT u FROM (SELECT DISTINCT entity_key AS u FROM (SELECT if(o.into_key = 0, x.entity_key, o.into_key) AS entity_key, x.kind AS kind, x.external_id AS external_id, x.created_at AS created_at FROM identities AS x ANY LEFT JOIN (SELECT from_key, into_key, merged_seq FROM identity_overrides FINAL WHERE site_id = ?) AS o ON x.entity_key = o.from_key WHERE x.site_id = ? AND kind IN (1, 2))) AS a WHERE u NOT IN (SELECT u FROM (SELECT u, tupleElement(last, 2) AS s FROM (SELECT entity_key AS u, argMax((is_null, s), (rank, changed_at)) AS last FROM (SELECT if(o.into_key = 0, x.entity_key, o.into_key) AS entity_key, x.is_null AS is_null, x.s AS s, x.changed_at AS changed_at, if(o.into_key = 0, 18446744073709551615, o.merged_seq) AS rank FROM attr_current AS x ANY LEFT JOIN (SELECT from_key, into_key, merged_seq FROM identity_overrides FINAL WHERE site_id = ?) AS o ON x.entity_key = o.from_key WHERE x.site_id = ? AND x.entity = 0 AND x.key = ?) GROUP BY entity_key) WHERE tupleElement(last, 1) = 0) v WHERE v.s = ?))
-- args:
-- $1 = 7
-- $2 = 7
-- $3 = 7
-- $4 = 7
-- $5 = 7
-- $6 = 7
-- $7 = "plan"
-- $8 = "pro"
