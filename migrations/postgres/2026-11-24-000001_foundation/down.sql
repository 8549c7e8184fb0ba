DROP TABLE counters;
DROP TABLE organization_members;
DROP TABLE organizations;
DROP TABLE cooperative_members;
DROP TABLE cooperatives;
DROP TABLE refresh_tokens;
DROP TABLE users;
