"""Alembic revisions of ``cert_interop`` (branch ``cert_interop``, after ``storage_0001``)."""
