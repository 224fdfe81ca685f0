"""Reading a TimeStampReq (RFC 3161 §2.4.1) the way a TSA must: any byte string in, either a
request we can grant or the reason (PKIFailureInfo) we refuse it, never an exception.

The checks and their failure codes follow OpenSSL's ``TS_RESP_create_response`` so that both
TSAs refuse the same requests the same way: unparseable → badDataFormat, version ≠ 1 →
badRequest, unknown hash or hash parameters other than NULL → badAlg, imprint of the wrong
length → badDataFormat, another policy → unacceptedPolicy, any extension → unacceptedExtension.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core, tsp, x509

from seal.tsa import oids

__all__ = ["MAX_REQUEST_BYTES", "Refusal", "TimestampRequest", "parse_request"]

MAX_REQUEST_BYTES = 64 * 1024
"""A request is ~60–120 bytes; anything near this size is not a request."""


@dataclass(frozen=True)
class TimestampRequest:
    """A request we can grant."""

    imprint: tsp.MessageImprint
    """The request's messageImprint, re-encoded as DER, echoed in TSTInfo."""
    hash_name: str
    digest: bytes
    nonce: int | None
    cert_req: bool


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: a PKIFailureInfo name (asn1crypto spelling) and a text."""

    fail_info: str
    text: str


class _Algorithm(core.Sequence):  # type: ignore[misc]
    """AlgorithmIdentifier with any parameters, so that odd ones are badAlg, not unreadable."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _Imprint(core.Sequence):  # type: ignore[misc]
    _fields = [("hash_algorithm", _Algorithm), ("hashed_message", core.OctetString)]  # noqa: RUF012


class _Request(core.Sequence):  # type: ignore[misc]
    """TimeStampReq (RFC 3161 §2.4.1) with a lenient hash AlgorithmIdentifier."""

    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("message_imprint", _Imprint),
        ("req_policy", core.ObjectIdentifier, {"optional": True}),
        ("nonce", core.Integer, {"optional": True}),
        ("cert_req", core.Boolean, {"default": False}),
        ("extensions", x509.Extensions, {"implicit": 0, "optional": True}),
    ]


def _load(data: object) -> _Request | Refusal:
    if not isinstance(data, bytes | bytearray | memoryview):
        return Refusal("bad_data_format", "the request is not bytes")
    raw = bytes(data)
    if not raw:
        return Refusal("bad_data_format", "the request is empty")
    if len(raw) > MAX_REQUEST_BYTES:
        return Refusal("bad_data_format", "the request is too large")
    try:
        req: _Request = _Request.load(raw, strict=True)
        req.native  # noqa: B018 - parse every field now, so that nothing fails later
    except Exception:  # asn1crypto raises ValueError, TypeError, OverflowError, …
        return Refusal("bad_data_format", "the request is not a DER TimeStampReq")
    return req


def parse_request(data: object, policy: str) -> TimestampRequest | Refusal:
    """A grantable request, or the reason to refuse it; ``policy`` is the only one we accept."""
    req = _load(data)
    if isinstance(req, Refusal):
        return req
    try:
        return _check(req, policy)
    except Exception:
        return Refusal("bad_data_format", "the request is not a DER TimeStampReq")


def _check(req: _Request, policy: str) -> TimestampRequest | Refusal:
    if req["version"].native != 1:
        return Refusal("bad_request", "the request version is not 1")
    mi = req["message_imprint"]
    alg = mi["hash_algorithm"]
    oid = alg["algorithm"].dotted
    name = oids.IMPRINT_HASHES.get(oid)
    if name is None:
        return Refusal("bad_alg", f"hash algorithm {oid} is not accepted")
    params = alg["parameters"]
    null = not isinstance(params, core.Void)
    if null and params.dump() != b"\x05\x00":
        return Refusal("bad_alg", "hash algorithm parameters must be absent or NULL")
    digest = bytes(mi["hashed_message"].native)
    if len(digest) != oids.digest_size(name):
        return Refusal("bad_data_format", f"a {name} imprint is {oids.digest_size(name)} bytes")
    req_policy = req["req_policy"]
    if not isinstance(req_policy, core.Void) and req_policy.dotted != policy:
        return Refusal("unaccepted_policy", f"policy {req_policy.dotted} is not offered")
    extensions = req["extensions"]
    if not isinstance(extensions, core.Void) and len(extensions) > 0:
        return Refusal("unaccepted_extensions", "no request extension is supported")
    nonce = req["nonce"]
    return TimestampRequest(
        imprint=_echo(oid, null, digest),
        hash_name=name,
        digest=digest,
        nonce=None if isinstance(nonce, core.Void) else int(nonce.native),
        cert_req=bool(req["cert_req"].native),
    )


def _echo(oid: str, null: bool, digest: bytes) -> tsp.MessageImprint:
    """The imprint as the request wrote it (NULL parameters or none): OpenSSL compares them."""
    alg: dict[str, object] = {"algorithm": oid}
    if null:
        alg["parameters"] = core.Null()
    return tsp.MessageImprint({"hash_algorithm": alg, "hashed_message": digest})
