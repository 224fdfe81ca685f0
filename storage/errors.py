"""Typed errors of the storage layer, so callers (blueprints, the CLI, health checks) can tell a
broken dependency from a bug without importing SQLAlchemy or redis-py."""


class StorageError(Exception):
    """Base class of every error raised by `storage`."""


class DatabaseUnavailable(StorageError):
    """The SQL database cannot be reached or refused the connection."""


class EphemeralStoreUnavailable(StorageError):
    """The ephemeral store (Redis or its SQL table) cannot be reached."""


class MigrationError(StorageError):
    """Bringing the schema up to date failed; the message says which database and why."""
