-- One PostgreSQL server, two databases: `optuna` (POSTGRES_DB, created by the image) for the
-- studies and `mlflow` for the MLflow tracking server's runs.
CREATE DATABASE mlflow OWNER mmopt;
