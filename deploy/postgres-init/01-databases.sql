-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d):
-- one database per service; each service's `migrate` job then creates its tables.
CREATE DATABASE user_center;
CREATE DATABASE depository_agent;
CREATE DATABASE bank_callback;
CREATE DATABASE beanpay_ledger;
CREATE DATABASE bank_sandbox;
CREATE DATABASE lending;
CREATE DATABASE partner_sandbox;
