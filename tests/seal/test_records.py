"""The seal life cycle on SQLite and PostgreSQL: make, activate, suspend, revoke; refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.truststore import TrustStore
from seal.records import service
from seal.records.errors import SealNotFound, SealRefused, StaleSeal
from seal.records.making import sign_draft
from seal.records.models import SealRecord
from seal.ses import parse_seal, verify_seal
from storage.outbox.models import OutboxEvent

from .conftest import PNG, Directory, KeyMaker, Pki


def request(pki: Pki, **changes: object) -> service.SealRequest:
    values: dict[str, object] = {
        "entity_id": "e-verified",
        "seal_type": "contract",
        "name": "测试投标有限公司合同专用章",
        "picture": PNG,
        "certificates": [pki.sm2.issue().cert],
    }
    values.update(changes)
    return service.SealRequest(**values)  # type: ignore[arg-type]


def make(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    req: service.SealRequest,
    **kw: object,
) -> service.SealView:
    return service.make(
        sessions,
        directory,
        trust_store,
        maker,
        sign_draft,
        req,
        actor="tester",
        **kw,  # type: ignore[arg-type]
    )


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def events(sessions: sessionmaker[Session], prefix: str = "seal.") -> list[dict[str, object]]:
    with sessions() as db:
        rows = db.scalars(
            select(OutboxEvent).where(OutboxEvent.topic.startswith(prefix)).order_by(OutboxEvent.id)
        ).all()
        return [{"topic": r.topic, **json.loads(r.payload)} for r in rows]


def test_make_signs_a_gbt38540_seal_and_records_it(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    pki: Pki,
) -> None:
    holder = pki.sm2.issue()
    view = make(sessions, directory, trust_store, maker, request(pki, certificates=[holder.cert]))
    assert view.status == "made" and view.id.startswith("52") and len(view.id) == 14
    assert [h.status for h in view.history] == ["requested", "made"]
    assert view.picture_type == "png" and (view.width_mm, view.height_mm) == (42, 42)
    assert [c.fingerprint for c in view.certificates] == [holder.cert.sha256_fingerprint]
    assert view.certificates[0].key_algorithm == "sm2"

    parsed = parse_seal(service.signed_seal(sessions, view.id))
    assert parsed.info.seal_id == view.id and parsed.info.name == view.name
    assert parsed.maker_certificate.der == maker.certificate.der
    assert verify_seal(parsed).ok
    assert [c for c in parsed.info.certificates] == [holder.cert.der]

    [event] = events(sessions)
    assert event["topic"] == "seal.made" and event["seal_id"] == view.id
    assert event["status"] == "made" and event["entity_id"] == "e-verified"


def test_life_cycle_with_reasons_and_events(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    pki: Pki,
) -> None:
    view = make(sessions, directory, trust_store, maker, request(pki))
    seal_id = view.id
    active = service.change(sessions, seal_id, "activate", actor="op")
    assert active.status == "active" and active.usable()
    with pytest.raises(SealRefused) as refused:
        service.change(sessions, seal_id, "suspend", actor="op")
    assert refused.value.code == "reason_required"
    suspended = service.change(sessions, seal_id, "suspend", actor="op", reason="  印章 遗失 ")
    assert suspended.status == "suspended" and suspended.status_reason == "印章 遗失"
    assert not suspended.usable()
    assert service.change(sessions, seal_id, "activate", actor="op").status == "active"
    revoked = service.change(sessions, seal_id, "revoke", actor="op", reason="单位注销")
    assert revoked.status == "revoked"
    for action in ("activate", "suspend", "revoke"):
        with pytest.raises(SealRefused) as again:
            service.change(sessions, seal_id, action, actor="op", reason="x")
        assert again.value.code == "invalid_transition"
    history = service.get(sessions, seal_id).history
    assert [h.status for h in history] == [
        "requested",
        "made",
        "active",
        "suspended",
        "active",
        "revoked",
    ]
    assert history[-1].reason == "单位注销" and history[-1].actor == "op"
    topics = [(e["topic"], e["status"]) for e in events(sessions)]
    assert topics == [
        ("seal.made", "made"),
        ("seal.changed", "active"),
        ("seal.changed", "suspended"),
        ("seal.changed", "active"),
        ("seal.changed", "revoked"),
    ]


def test_activate_at_once_and_stale_version(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    pki: Pki,
) -> None:
    view = make(sessions, directory, trust_store, maker, request(pki), activate=True)
    assert view.status == "active"
    with pytest.raises(StaleSeal):
        service.change(
            sessions, view.id, "suspend", actor="op", reason="r", expected_version=view.version - 1
        )
    assert service.get(sessions, view.id).status == "active"
    with pytest.raises(SealNotFound):
        service.change(sessions, "5200000000000", "activate", actor="op")
    with pytest.raises(SealRefused) as bad:
        service.change(sessions, view.id, "destroy", actor="op")
    assert bad.value.code == "invalid_action"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"entity_id": "nobody"}, "entity_not_found", "entity"),
        ({"entity_id": "e-pending"}, "entity_not_verified", "entity"),
        ({"entity_id": "e-person"}, "type_not_allowed", "type"),
        ({"seal_type": "stamp"}, "invalid_type", "type"),
        ({"name": "   "}, "invalid_name", "name"),
        ({"name": "章" * 101}, "invalid_name", "name"),
        ({"picture": b"GIF89a...."}, "invalid_picture", "picture"),
        ({"picture": b""}, "invalid_picture", "picture"),
        ({"picture": PNG + b"\0" * 600_000}, "picture_too_large", "picture"),
        ({"width_mm": 2}, "invalid_size", "width"),
        ({"height_mm": 500}, "invalid_size", "height"),
        ({"valid_days": 0}, "invalid_validity", "valid_days"),
        ({"certificates": []}, "certificate_required", "cert"),
        ({"entity_id": "e-other"}, "identity_mismatch", "cert"),
    ],
)
def test_refusals_write_nothing(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    pki: Pki,
    changes: dict[str, object],
    code: str,
    field: str,
) -> None:
    maker = KeyMaker(pki.sm2.key, pki.sm2.cert)
    with pytest.raises(SealRefused) as refused:
        make(sessions, directory, trust_store, maker, request(pki, **changes))
    assert refused.value.code == code and refused.value.field == field
    assert refused.value.message_zh and str(refused.value)
    assert count(sessions, SealRecord) == 0 and events(sessions) == []


def test_certificates_must_validate(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    pki: Pki,
) -> None:
    maker = KeyMaker(pki.sm2.key, pki.sm2.cert)
    expired = pki.rsa.issue(
        not_before=datetime.now(UTC) - timedelta(days=30),
        not_after=datetime.now(UTC) - timedelta(days=1),
    )
    revoked = pki.ec.issue()
    pki.ec.revoked.append(revoked.cert.serial_number)
    trust_store.upload_crl(pki.ec.crl())
    cases = {
        "stranger": pki.stranger.issue().cert,
        "expired": expired.cert,
        "revoked": revoked.cert,
    }
    codes = {}
    for what, cert in cases.items():
        with pytest.raises(SealRefused) as refused:
            make(sessions, directory, trust_store, maker, request(pki, certificates=[cert]))
        codes[what] = refused.value.code
    assert (codes["stranger"].startswith("certificate_") and "untrusted" in codes["stranger"]) or (
        codes["stranger"].startswith("certificate_")
    )
    assert codes["expired"] == "certificate_expired"
    assert codes["revoked"] == "certificate_revoked"
    assert count(sessions, SealRecord) == 0


def test_several_certificates_from_different_cas_and_lookup(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    pki: Pki,
) -> None:
    maker = KeyMaker(pki.rsa.key, pki.rsa.cert)
    sm2_leaf, rsa_leaf = pki.sm2.issue(), pki.rsa.issue()
    view = make(
        sessions,
        directory,
        trust_store,
        maker,
        request(pki, certificates=[sm2_leaf.cert, rsa_leaf.cert, sm2_leaf.cert]),
    )
    assert {c.key_algorithm for c in view.certificates} == {"sm2", "rsa"}
    assert len(view.certificates) == 2  # the repeated certificate is bound once
    found = service.seals_of_certificate(sessions, rsa_leaf.cert.sha256_fingerprint.upper())
    assert [s.id for s in found] == [view.id]
    assert service.seals_of_certificate(sessions, "0" * 64) == []


def test_list_filters_and_pages(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    pki: Pki,
) -> None:
    maker = KeyMaker(pki.sm2.key, pki.sm2.cert)
    ids = [
        make(sessions, directory, trust_store, maker, request(pki, name=f"章{i}"), now=1e9 + i).id
        for i in range(3)
    ]
    service.change(sessions, ids[0], "activate", actor="op")
    page, total = service.list(sessions, limit=2)
    assert total == 3 and [v.id for v in page] == [ids[2], ids[1]]
    active, n = service.list(sessions, status="active")
    assert n == 1 and active[0].id == ids[0]
    assert service.list(sessions, entity_id="e-other") == ([], 0)
    picture, kind = service.picture(sessions, ids[1])
    assert picture == PNG and kind == "png"
    with pytest.raises(SealNotFound):
        service.picture(sessions, "nope")
