"""The transactional outbox: events committed with the changes they report, followed by named
consumers (webhooks, the national uploader, read models) at least once, with retries.

One mechanism for every such flow; packages on the same floor talk through it instead of
importing each other.
"""

from storage.outbox.consumer import Consumer, PassResult, exponential_backoff
from storage.outbox.events import Event, dead_letters, publish
from storage.outbox.models import OutboxConsumer, OutboxEvent, OutboxRetry

__all__ = [
    "Consumer",
    "Event",
    "OutboxConsumer",
    "OutboxEvent",
    "OutboxRetry",
    "PassResult",
    "dead_letters",
    "exponential_backoff",
    "publish",
]
