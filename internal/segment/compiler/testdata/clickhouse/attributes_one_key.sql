SELECT u FROM (SELECT entity_key AS u FROM (SELECT entity_key, key, tupleElement(last, 2) AS s, tupleElement(last, 3) AS n, tupleElement(last, 4) AS b, tupleElement(last, 5) AS t FROM (SELECT entity_key, key, argMax((is_null, s, n, b, t), (rank, changed_at)) AS last FROM (SELECT if(o.into_key = 0, x.entity_key, o.into_key) AS entity_key, x.key AS key, x.is_null AS is_null, x.s AS s, x.n AS n, x.b AS b, x.t AS t, x.changed_at AS changed_at, if(o.into_key = 0, 18446744073709551615, o.merged_seq) AS rank FROM attr_current AS x ANY LEFT JOIN (SELECT from_key, into_key, merged_seq FROM identity_overrides FINAL WHERE site_id = ?) AS o ON x.entity_key = o.from_key WHERE x.site_id = ? AND x.entity = 0 AND x.key IN (?)) GROUP BY entity_key, key) WHERE tupleElement(last, 1) = 0 AND ((key = ? AND n > ? AND key = ? AND n < ?))))
-- args:
-- $1 = 7
-- $2 = 7
-- $3 = "ltv"
-- $4 = "ltv"
-- $5 = 0
-- $6 = "ltv"
-- $7 = 100
