"""System of record: SQLAlchemy models, repositories, migrations, vector index, file store."""
