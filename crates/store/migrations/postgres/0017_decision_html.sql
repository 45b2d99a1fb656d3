-- Kept in step with ../sqlite/0017_decision_html.sql: same tables, columns and meaning.
-- A page's HTML, kept with its decision so reviewers read what was judged
-- (evidence spans of the field `html` point into it).
ALTER TABLE decisions ADD COLUMN html TEXT;
