"""/api/v1/seals: verify a PDF, stamp one with a server-held key, or in two steps with a USBKey.

Two steps: `POST /seals/{id}/stamps` prepares the document (picture, field, byte range) and
answers the signed attributes to sign; the page has the local bridge sign them with the
holder's USBKey; `POST /seals/stamps/{stamp_id}/complete` checks that signature and returns the
PDF. The prepared document waits in the ephemeral store (HMAC-tagged, single use, ten minutes,
only for the client that prepared it), never in a worker's memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

from flask import Response, g, jsonify, request

from cert_interop.web import inputs
from cert_interop.web.api import ApiError

from ..errors import SealError
from ..pdf import Level, PagingSeal, PdfSealSigner, PendingStamp, Placement, stamp_pdf
from ..pdf import complete as finish
from ..pdf import prepare as prepare_pdf
from ..records import service
from ..records.service import SealView
from ..verification import bound_certificate, verify_document
from .api import PENDING_TTL, SealApi, _api, requires

LEVELS = {level.value: level for level in Level}
PDF_TYPE = "application/pdf"


class Refused(SealError):
    """An API refusal with its HTTP status and Chinese message."""

    def __init__(self, code: str, status: int, message: str, zh: str) -> None:
        super().__init__(message, zh=zh)
        self.code = code
        self.http_status = status


def _raw_pdf(api: SealApi) -> bytes:
    if request.mimetype != PDF_TYPE:
        raise ApiError("invalid_content_type", 415, "send the PDF as application/pdf")
    length = request.content_length
    if length is not None and length > api.max_pdf_bytes:
        raise ApiError("request_too_large", 413, f"the PDF exceeds {api.max_pdf_bytes} bytes")
    data = request.stream.read(api.max_pdf_bytes + 1)
    if len(data) > api.max_pdf_bytes:
        raise ApiError("request_too_large", 413, f"the PDF exceeds {api.max_pdf_bytes} bytes")
    if not data:
        raise ApiError("invalid_request", 400, "the body is empty: send the PDF")
    return data


def _usable(api: SealApi, seal_id: str) -> SealView:
    seal = service.get(api.sessions, seal_id, with_history=False)
    if not seal.usable():
        raise Refused(
            "seal_not_usable",
            409,
            f"seal {seal.id} is {seal.status}"
            + (f" ({seal.status_reason})" if seal.status_reason else "")
            + ("" if seal.status != "active" else " but outside its validity period"),
            "印章不可用：未启用、已暂停、已吊销或不在有效期内",
        )
    return seal


def _number(values: Any, name: str, kind: type[int] | type[float]) -> Any:
    raw = values.get(name)
    if raw is None or raw == "":
        return None
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise ApiError("invalid_request", 400, f"'{name}' must be a number") from None


def _flag(values: Any, name: str) -> bool:
    raw = values.get(name)
    if raw in (None, "", False, "false", "0"):
        return False
    if raw in (True, "true", "1"):
        return True
    raise ApiError("invalid_request", 400, f"'{name}' must be true or false")


def _options(values: Any, seal: SealView) -> dict[str, Any]:
    """Placement, paging seal, level, reason, location from query parameters or a JSON object."""
    size = _number(values, "size_mm", float) or float(seal.width_mm)
    keyword = values.get("keyword")
    page = _number(values, "page", int)
    x, y = _number(values, "x", float), _number(values, "y", float)
    if keyword is not None and not isinstance(keyword, str):
        raise ApiError("invalid_request", 400, "'keyword' must be a string")
    if keyword and (x is not None or y is not None):
        raise ApiError("invalid_request", 400, "give either 'keyword' or 'x'/'y'")
    if keyword:
        placement = Placement.at_keyword(keyword, page=page, size_mm=size)
    elif x is not None and y is not None:
        placement = Placement.at(page if page is not None else -1, x, y, size_mm=size)
    else:
        raise ApiError("invalid_request", 400, "say where the seal goes: 'keyword', or 'x' and 'y'")
    level = values.get("level") or "B-B"
    if level not in LEVELS:
        raise ApiError("invalid_request", 400, f"'level' must be one of {', '.join(LEVELS)}")
    for name in ("reason", "location"):
        if values.get(name) is not None and not isinstance(values.get(name), str):
            raise ApiError("invalid_request", 400, f"'{name}' must be a string")
    return {
        "placement": placement,
        "paging": PagingSeal(size_mm=size) if _flag(values, "paging") else None,
        "level": LEVELS[level],
        "reason": values.get("reason") or None,
        "location": values.get("location") or None,
    }


def _resources(api: SealApi) -> Any:
    if api.resources is None:
        raise ApiError("temporarily_unavailable", 503, "stamping is not configured")
    return api.resources


def _pdf_response(data: bytes, seal_id: str) -> Response:
    response = Response(data, mimetype=PDF_TYPE)
    response.headers["X-Huren-Seal-Id"] = seal_id
    response.headers["Content-Disposition"] = f'attachment; filename="sealed-{seal_id}.pdf"'
    return response


@requires("seal:verify")
def verify() -> Response:
    api = _api()
    if api.checker is None:
        raise ApiError("temporarily_unavailable", 503, "verification is not configured")
    data = _raw_pdf(api)
    report = verify_document(data, api.sessions, api.checker)
    return jsonify(report.as_dict())


@requires("seal:stamp")
def stamp(seal_id: str) -> Response:
    """Stamp with the platform key the seal is bound to (institution seals held by the service)."""
    api = _api()
    resources = _resources(api)
    seal = _usable(api, seal_id)
    opts = _options(request.args, seal)
    key = resources.server_key(seal)
    if key is None:
        raise Refused(
            "no_server_key",
            409,
            f"seal {seal.id} is not bound to a key this service holds: stamp it with the "
            "holder's USBKey (POST /api/v1/seals/{seal_id}/stamps)",
            "本服务不持有该印章绑定证书的密钥：请使用持章人的 USB Key 两步签章",
        )
    data = _raw_pdf(api)
    picture, _kind = service.picture(api.sessions, seal.id)
    level = opts["level"]
    signed = stamp_pdf(
        data,
        signer=PdfSealSigner(key, key.certificate),
        picture=picture,
        timestamper=resources.timestamper(level),
        revocation=resources.revocation(key.certificate, level),
        seal_id=seal.id,
        max_pdf_bytes=api.max_pdf_bytes,
        **opts,
    )
    return _pdf_response(signed, seal.id)


def _caller_id() -> str:
    return str(getattr(g, "huren_client_id", "") or "")


@requires("seal:stamp")
def prepare(seal_id: str) -> Response:
    api = _api()
    resources = _resources(api)
    if api.store is None:
        raise ApiError("temporarily_unavailable", 503, "two-step stamping is not configured")
    seal = _usable(api, seal_id)
    doc = inputs.body()
    opts = _options(doc, seal)
    cert = inputs.certificate(doc.get("certificate"), "certificate")
    if not bound_certificate(seal, cert):
        raise Refused(
            "signer_not_bound",
            403,
            f"certificate {cert.subject.rfc4514} is not bound to seal {seal.id}",
            "该证书未绑定到此印章",
        )
    pdf = inputs.binary(doc, "pdf", required=True)
    assert pdf is not None
    picture, _kind = service.picture(api.sessions, seal.id)
    level = opts["level"]
    pending = prepare_pdf(
        pdf,
        picture=picture,
        certificate=cert,
        timestamper=resources.timestamper(level),
        revocation=resources.revocation(cert, level),
        seal_id=seal.id,
        max_pdf_bytes=api.max_pdf_bytes,
        **opts,
    )
    stamp_id = secrets.token_urlsafe(18)
    record = json.dumps(
        {
            "client": _caller_id(),
            "seal": seal.id,
            "pending": base64.b64encode(pending.to_bytes(api.pending_key)).decode(),
        }
    ).encode()
    api.store.put(f"seal:stamp:{stamp_id}", record, PENDING_TTL)
    return jsonify(
        {
            "stamp_id": stamp_id,
            "seal_id": seal.id,
            "algorithm": pending.algorithm,
            "to_be_signed": base64.b64encode(pending.to_be_signed).decode(),
            "digest_to_sign": base64.b64encode(pending.digest_to_sign).decode(),
            "expires_in": PENDING_TTL,
            "complete": f"/api/v1/seals/stamps/{stamp_id}/complete",
        }
    )


@requires("seal:stamp")
def complete(stamp_id: str) -> Response:
    api = _api()
    resources = _resources(api)
    if api.store is None:
        raise ApiError("temporarily_unavailable", 503, "two-step stamping is not configured")
    doc = inputs.body()
    signature = inputs.binary(doc, "signature", required=True)
    assert signature is not None
    raw = api.store.take(f"seal:stamp:{stamp_id[:64]}")
    if raw is None:
        raise Refused(
            "stamp_not_found",
            404,
            "no such prepared stamp: it was completed already, expired or never existed",
            "没有这个待完成的签章：已完成、已过期或不存在，请重新发起",
        )
    record = json.loads(raw)
    if record.get("client") != _caller_id():
        raise Refused("stamp_not_found", 404, "no such prepared stamp", "没有这个待完成的签章")
    try:
        pending = PendingStamp.from_bytes(base64.b64decode(record["pending"]), api.pending_key)
    except (binascii.Error, KeyError, ValueError):
        raise Refused(
            "stamp_not_found", 404, "the prepared stamp is unreadable", "签章数据损坏"
        ) from None
    _usable(api, str(record.get("seal")))  # revoked in the meantime: no document
    signed = finish(pending, signature, timestamper=resources.timestamper(pending.level))
    return _pdf_response(signed, str(record.get("seal")))
