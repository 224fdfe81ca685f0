"""Floor 0: the SQL engine and declarative base, migrations, the ephemeral store and the outbox.

Every other package builds on these pieces instead of opening its own connections, so that one
configuration (SQLite for a laptop, PostgreSQL + Redis in production) serves the whole service.
"""
