"""An entity's own request for a seal, on SQLite and PostgreSQL: request → made by an operator,
rejected, or withdrawn; every check again at making time; no event until a seal exists."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.truststore import TrustStore
from seal.records import service
from seal.records.errors import SealNotFound, SealRefused, StaleSeal
from seal.records.making import sign_draft
from seal.ses import parse_seal, verify_seal

from .conftest import Directory, KeyMaker, Pki
from .test_records import events, request


def ask(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    req: service.SealRequest,
    **kw: object,
) -> service.SealView:
    return service.request(
        sessions,
        directory,
        trust_store,
        req,
        actor="org-admin",
        **kw,  # type: ignore[arg-type]
    )


def make_it(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    seal_id: str,
    **kw: object,
) -> service.SealView:
    return service.make_requested(
        sessions,
        directory,
        trust_store,
        maker,
        sign_draft,
        seal_id,
        actor="op",
        **kw,  # type: ignore[arg-type]
    )


def test_a_request_is_stored_unsigned_and_tells_no_platform(
    sessions: sessionmaker[Session], directory: Directory, trust_store: TrustStore, pki: Pki
) -> None:
    view = ask(sessions, directory, trust_store, request(pki), now=1_800_000_000.0)
    assert view.status == "requested" and view.maker is None
    assert [(h.status, h.actor) for h in view.history] == [("requested", "org-admin")]
    assert view.created_by == "org-admin" and len(view.certificates) == 1
    with pytest.raises(SealNotFound):
        service.signed_seal(sessions, view.id)
    assert events(sessions) == []
    listed, total = service.list(sessions, status="requested")
    assert total == 1 and listed[0].id == view.id


def test_an_operator_makes_the_request_and_the_seal_is_signed_then(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    pki: Pki,
) -> None:
    asked = ask(sessions, directory, trust_store, request(pki, valid_days=30), now=1_000.0)
    made = make_it(sessions, directory, trust_store, maker, asked.id, activate=True)
    assert made.status == "active" and made.maker == maker.name
    assert [h.status for h in made.history] == ["requested", "made", "active"]
    assert [h.actor for h in made.history] == ["org-admin", "op", "op"]
    # validity starts when the seal is made, for the requested length
    assert made.valid_from > asked.valid_from
    assert made.valid_until - made.valid_from == 30 * 86400
    seal = parse_seal(service.signed_seal(sessions, made.id))
    assert verify_seal(seal).ok
    assert seal.info.seal_id == made.id and seal.info.name == made.name
    assert events(sessions) == [
        {
            "topic": "seal.made",
            "seal_id": made.id,
            "entity_id": "e-verified",
            "seal_type": "contract",
            "status": "active",
            "version": made.version,
        }
    ]
    # made once only
    with pytest.raises(SealRefused) as again:
        make_it(sessions, directory, trust_store, maker, asked.id)
    assert again.value.code == "invalid_transition"
    assert len(events(sessions)) == 1


def test_making_checks_everything_again(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    pki: Pki,
) -> None:
    holder = pki.ec.issue()
    asked = ask(sessions, directory, trust_store, request(pki, certificates=[holder.cert]))
    # the certificate is revoked while the request waits
    pki.ec.revoked.append(holder.cert.serial_number)
    trust_store.upload_crl(pki.ec.crl())
    with pytest.raises(SealRefused) as revoked:
        make_it(sessions, directory, trust_store, maker, asked.id)
    assert revoked.value.code == "certificate_revoked"
    # and the entity is no longer verified
    other = ask(sessions, directory, trust_store, request(pki))
    directory.add("e-verified", "legal_person", "rejected", None)
    with pytest.raises(SealRefused) as rejected:
        make_it(sessions, directory, trust_store, maker, other.id)
    assert rejected.value.code == "entity_not_verified"
    for seal_id in (asked.id, other.id):
        assert service.get(sessions, seal_id).status == "requested"
    assert events(sessions) == []


def test_requests_are_checked_like_seals(
    sessions: sessionmaker[Session], directory: Directory, trust_store: TrustStore, pki: Pki
) -> None:
    cases = {
        "entity_not_verified": request(pki, entity_id="e-pending"),
        "entity_not_found": request(pki, entity_id="nobody"),
        "type_not_allowed": request(pki, entity_id="e-person", seal_type="contract"),
        "identity_mismatch": request(pki, entity_id="e-other"),
        "certificate_required": request(pki, certificates=[]),
        "invalid_picture": request(pki, picture=b"GIF89a"),
        "invalid_name": request(pki, name="  "),
    }
    for code, req in cases.items():
        with pytest.raises(SealRefused) as refused:
            ask(sessions, directory, trust_store, req)
        assert refused.value.code == code
    assert service.list(sessions)[1] == 0


def test_open_requests_are_limited_per_entity(
    sessions: sessionmaker[Session], directory: Directory, trust_store: TrustStore, pki: Pki
) -> None:
    for _ in range(service.MAX_OPEN_REQUESTS):
        ask(sessions, directory, trust_store, request(pki))
    with pytest.raises(SealRefused) as refused:
        ask(sessions, directory, trust_store, request(pki))
    assert refused.value.code == "too_many_requests"
    # another entity is not held up, and a withdrawn request frees a place
    directory.add("e-second", "legal_person", "verified", "91520000MA6DRM5T0X")
    first = service.list(sessions, status="requested")[0][0]
    service.change(sessions, first.id, "withdraw", actor="org-admin")
    ask(sessions, directory, trust_store, request(pki))


def test_reject_and_withdraw(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    pki: Pki,
) -> None:
    one = ask(sessions, directory, trust_store, request(pki))
    with pytest.raises(SealRefused) as no_reason:
        service.change(sessions, one.id, "reject", actor="op", reason=" ")
    assert no_reason.value.code == "reason_required"
    rejected = service.change(sessions, one.id, "reject", actor="op", reason="印模不清晰")
    assert (rejected.status, rejected.status_reason) == ("rejected", "印模不清晰")
    two = ask(sessions, directory, trust_store, request(pki))
    with pytest.raises(StaleSeal):
        service.change(sessions, two.id, "withdraw", actor="org-admin", expected_version=99)
    withdrawn = service.change(
        sessions, two.id, "withdraw", actor="org-admin", expected_version=two.version
    )
    assert withdrawn.status == "withdrawn"
    for seal_id in (one.id, two.id):
        with pytest.raises(SealRefused) as ended:
            make_it(sessions, directory, trust_store, maker, seal_id)
        assert ended.value.code == "invalid_transition"
        for action in ("activate", "suspend", "revoke", "reject", "withdraw"):
            with pytest.raises(SealRefused):
                service.change(sessions, seal_id, action, actor="op", reason="x")
    # a made seal is not a request any more: it cannot be rejected or withdrawn
    three = ask(sessions, directory, trust_store, request(pki))
    make_it(sessions, directory, trust_store, maker, three.id)
    for action in ("reject", "withdraw"):
        with pytest.raises(SealRefused):
            service.change(sessions, three.id, action, actor="op", reason="x")
    assert [e["topic"] for e in events(sessions)] == ["seal.made"]


def test_stale_request_is_not_made(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    maker: KeyMaker,
    pki: Pki,
) -> None:
    asked = ask(sessions, directory, trust_store, request(pki))
    with pytest.raises(StaleSeal):
        make_it(sessions, directory, trust_store, maker, asked.id, expected_version=99)
    with pytest.raises(SealNotFound):
        make_it(sessions, directory, trust_store, maker, "52000000000000")
    assert service.get(sessions, asked.id).status == "requested"
