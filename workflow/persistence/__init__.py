"""SQLAlchemy persistence: engine factory, ORM tables, repository/unit of work, Alembic migrations."""
