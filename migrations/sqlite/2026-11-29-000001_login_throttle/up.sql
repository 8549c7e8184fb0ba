-- Failed logins (and registrations) counted per key in a fixed window, shared by every
-- instance: `p:<email>|<address>`, `a:<address>`, `e:<email>`, `r:<address>`.
CREATE TABLE login_failures (
    key TEXT NOT NULL PRIMARY KEY,
    failures BIGINT NOT NULL CHECK (failures >= 0),
    window_start TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_window ON login_failures (window_start);
