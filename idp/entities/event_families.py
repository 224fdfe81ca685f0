"""The families of events pushed to subscribed platforms over one delivery pipeline (`events`).

A family names its outbox topics, the scope a subscriber needs for them, its SET event types,
how an outbox payload is checked and cut down to what a platform may see, and the SET event
value built from a delivery. Two families exist:

- **entity**: `entity.registered` / `entity.changed` (published by `idp.entities.service`),
  for clients with `entities:read`;
- **seal**: `seal.made` / `seal.changed` (published by the seal service), for clients with
  `seal:read`. `idp` does not import `seal`: it reads only the topic names and payload dicts.

Only non-personal fields are copied: never names, ID numbers, mobiles, actors or free text such
as a seal's suspension reason; platforms fetch details from the API the family's scope opens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from storage.outbox import Event

FAMILY_KEY = "family"
"""Names the family in a delivery payload; a delivery written before seal events has none and
is an entity delivery."""
_NAME = re.compile(r"^[a-z][a-z_]{0,39}$")
_SEAL_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,31}$")


class MalformedEvent(Exception):
    """An outbox event lacks what a SET needs (parked as a fan-out dead letter)."""


class MalformedEntityEvent(MalformedEvent):
    """An `entity.*` outbox event lacks what a SET needs."""


class MalformedSealEvent(MalformedEvent):
    """A `seal.*` outbox event lacks what a SET needs."""


@dataclass(frozen=True)
class EventFamily:
    name: str
    scope: str
    """A subscriber receives the family's events only while it holds this scope."""
    topics: tuple[str, str]
    """The outbox topics: (the thing appeared, the thing changed)."""
    event_type_prefix: str
    """`events` keys of the SETs: this prefix + the delivery's `kind`."""
    summarize: Callable[[Event], dict[str, Any]]
    """The checked, non-personal fields of an outbox event, with its `kind`; raises a
    `MalformedEvent` when a field is missing or odd."""
    body: Callable[[Mapping[str, Any]], dict[str, Any]]
    """The SET event value for a delivery (a summary plus delivery fields)."""

    def allows(self, scopes: Collection[str] | None) -> bool:
        return self.scope in (scopes or ())

    def event_type(self, delivery: Mapping[str, Any]) -> str:
        return self.event_type_prefix + str(delivery["kind"])


def _text(value: object, pattern: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and pattern.match(value) else None


def _entity_id(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def _version(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def _require(
    error: type[MalformedEvent], event: Event, fields: Mapping[str, object]
) -> dict[str, Any]:
    for name, value in fields.items():
        if value is None:
            raise error(f"event {event.id}: no {name}")
    return dict(fields)


def _entity_summary(event: Event) -> dict[str, Any]:
    payload = event.payload
    kind = "registered" if event.topic == "entity.registered" else "changed"
    change = "registered" if kind == "registered" else payload.get("change")
    checked = _require(
        MalformedEntityEvent,
        event,
        {
            "entity_id": _entity_id(payload.get("entity_id")),
            "status": _text(payload.get("status"), _NAME),
            "change": _text(change, _NAME),
            "version": _version(payload.get("version")),
        },
    )
    return {
        "kind": kind,
        "entity_id": checked["entity_id"],
        "change": checked["change"],
        "status": checked["status"],
        "version": checked["version"],
    }


def _entity_body(delivery: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "entity_id": delivery["entity_id"],
        "change": delivery["change"],
        "status": delivery["status"],
        "version": delivery["version"],
    }


def _seal_summary(event: Event) -> dict[str, Any]:
    payload = event.payload
    made = event.topic == "seal.made"
    extra = "seal_type" if made else "previous"
    checked = _require(
        MalformedSealEvent,
        event,
        {
            "seal_id": _text(payload.get("seal_id"), _SEAL_ID),
            "entity_id": _entity_id(payload.get("entity_id")),
            "status": _text(payload.get("status"), _NAME),
            extra: _text(payload.get(extra), _NAME),
            "version": _version(payload.get("version")),
        },
    )
    # the reason (free text, may name people) is never copied
    return {"kind": "made" if made else "changed", **checked}


def _seal_body(delivery: Mapping[str, Any]) -> dict[str, Any]:
    extra = "seal_type" if delivery["kind"] == "made" else "previous"
    return {
        "seal_id": delivery["seal_id"],
        "entity_id": delivery["entity_id"],
        "status": delivery["status"],
        extra: delivery[extra],
        "version": delivery["version"],
    }


ENTITY = EventFamily(
    name="entity",
    scope="entities:read",
    topics=("entity.registered", "entity.changed"),
    event_type_prefix="https://huren.gov.cn/secevent/entity/",
    summarize=_entity_summary,
    body=_entity_body,
)
SEAL = EventFamily(
    name="seal",
    scope="seal:read",
    topics=("seal.made", "seal.changed"),
    event_type_prefix="https://huren.gov.cn/secevent/seal/",
    summarize=_seal_summary,
    body=_seal_body,
)
FAMILIES = (ENTITY, SEAL)
SOURCE_TOPICS = tuple(topic for family in FAMILIES for topic in family.topics)
SUBSCRIPTION_SCOPES = tuple(family.scope for family in FAMILIES)
"""A client with an events URI needs at least one of these (client registration checks it)."""

_BY_TOPIC = {topic: family for family in FAMILIES for topic in family.topics}
_BY_NAME = {family.name: family for family in FAMILIES}


def family_of_topic(topic: str) -> EventFamily:
    family = _BY_TOPIC.get(topic)
    if family is None:
        raise MalformedEvent(f"no event family for topic {topic!r}")
    return family


def family_of_delivery(delivery: Mapping[str, Any]) -> EventFamily:
    """The family a delivery payload belongs to (no `family` field: an entity delivery)."""
    name = delivery.get(FAMILY_KEY, ENTITY.name)
    family = _BY_NAME.get(name) if isinstance(name, str) else None
    if family is None:
        raise MalformedEvent(f"unknown event family {name!r}")
    return family
