-- PostgreSQL's planner statistics on the searched texts (see the PostgreSQL migration of the
-- same name); SQLite's schema does not change, and the migration sets stay in step.
SELECT 1;
