-- One database and one login role per service, each database owned by its role, so a service can
-- reach only its own data. The services create their tables themselves (Alembic at start-up).
--
-- Run once by the postgres image's entrypoint, on the first start of an empty data directory
-- (mounted into /docker-entrypoint-initdb.d by docker-compose.yml); it runs psql, and \getenv
-- (psql 15 or newer) reads each password from the container's environment. An unset password
-- leaves its variable undefined, the statement fails and so does the initialisation (ON_ERROR_STOP).

\getenv booking_password BOOKING_DB_PASSWORD
\getenv lounge_password LOUNGE_DB_PASSWORD
\getenv callcenter_password CALLCENTER_DB_PASSWORD

CREATE ROLE booking LOGIN PASSWORD :'booking_password';
CREATE DATABASE booking OWNER booking;
REVOKE ALL ON DATABASE booking FROM PUBLIC;

CREATE ROLE lounge LOGIN PASSWORD :'lounge_password';
CREATE DATABASE lounge OWNER lounge;
REVOKE ALL ON DATABASE lounge FROM PUBLIC;

CREATE ROLE callcenter LOGIN PASSWORD :'callcenter_password';
CREATE DATABASE callcenter OWNER callcenter;
REVOKE ALL ON DATABASE callcenter FROM PUBLIC;
