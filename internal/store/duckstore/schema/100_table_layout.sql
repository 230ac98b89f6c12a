-- How many rows were appended to each table kept in order (layout.go)
-- since it was last put in order. Tables that existed before start
-- counted as wholly appended, so the first check puts them in order.
CREATE TABLE table_layout (
    table_name   VARCHAR PRIMARY KEY,
    appended     BIGINT NOT NULL,
    clustered_at TIMESTAMP
);
INSERT INTO table_layout SELECT 'attr_current', count(*), NULL FROM attr_current;
INSERT INTO table_layout SELECT 'attr_history', count(*), NULL FROM attr_history;
