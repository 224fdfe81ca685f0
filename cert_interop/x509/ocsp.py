"""OCSP (RFC 6960) for RSA, ECDSA and SM2: build and parse requests and basic responses, and
decide whether a response's signer may speak for a certificate's issuer.

Requests carry one or more CertIDs (SHA-1 by default, as every responder understands it;
SHA-256 or SM3 1.2.156.10197.1.401 on request) and a nonce (RFC 8954: 16-32 random bytes in
1.3.6.1.5.5.7.48.1.2) so an answer cannot be replayed. Responses are signed like certificates
(``build._sign``: sha256WithRSA, ecdsa-with-SHA256, SM2-with-SM3) by the issuing CA itself or by a
delegated responder certificate the CA issued with the id-kp-OCSPSigning EKU.

Parsers take at most 1 MiB and raise only :class:`cert_interop.errors.CertInteropError`
subclasses (``MalformedInput`` for bad bytes), never anything else, as in :mod:`.parse`.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from asn1crypto import core as _core
from asn1crypto import ocsp as _ocsp
from asn1crypto import x509 as _x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes as _hashes
from cryptography.hazmat.primitives.asymmetric import ec as _cec
from cryptography.hazmat.primitives.asymmetric import padding as _padding
from cryptography.hazmat.primitives.asymmetric import rsa as _crsa

from cert_interop import sm2
from cert_interop.errors import (
    CertInteropError,
    InvalidKey,
    MalformedInput,
    OcspResponseRejected,
    UnsupportedAlgorithm,
)
from cert_interop.keys import PrivateKey, PublicKey
from cert_interop.x509.build import REVOCATION_REASONS, _sig_algorithm, _sign, public_key_info
from cert_interop.x509.names import Name, name_from_asn1
from cert_interop.x509.parse import (
    SIGNATURE_ALGORITHMS,
    Certificate,
    _guard,
    _sig_alg,
    _time,
    _to_der,
    parse_certificate,
    verify_signature,
)

__all__ = [
    "OCSP_HASH_ALGORITHMS",
    "OID_OCSP_BASIC",
    "OID_OCSP_NONCE",
    "OID_OCSP_SIGNING",
    "CertId",
    "OcspCertStatus",
    "OcspRequest",
    "OcspResponse",
    "OcspResponseStatus",
    "SingleResponse",
    "build_ocsp_error_response",
    "build_ocsp_request",
    "build_ocsp_response",
    "cert_id",
    "key_hash",
    "new_nonce",
    "parse_ocsp_request",
    "parse_ocsp_response",
    "verify_ocsp_response",
]

OID_OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2"
OID_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1"
OID_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"

OCSP_HASH_ALGORITHMS: dict[str, str] = {
    "sha1": "1.3.14.3.2.26",
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sm3": "1.2.156.10197.1.401",
}
"""CertID hash name → OID."""
_HASH_BY_OID = {oid: name for name, oid in OCSP_HASH_ALGORITHMS.items()}
_HASH_FACTORIES: dict[str, Callable[[], _hashes.HashAlgorithm]] = {
    "sha1": _hashes.SHA1,
    "sha256": _hashes.SHA256,
    "sm3": _hashes.SM3,
}
_SIGNATURE_HASHES: dict[str, Callable[[], _hashes.HashAlgorithm]] = {
    "sha256": _hashes.SHA256,
    "sha384": _hashes.SHA384,
    "sha512": _hashes.SHA512,
}
_NONCE_MIN, _NONCE_MAX = 1, 32

OcspCertStatus = Literal["good", "revoked", "unknown"]


class OcspResponseStatus(enum.Enum):
    """OCSPResponseStatus; only ``SUCCESSFUL`` carries a signed answer."""

    SUCCESSFUL = "successful"
    MALFORMED_REQUEST = "malformed_request"
    INTERNAL_ERROR = "internal_error"
    TRY_LATER = "try_later"
    SIG_REQUIRED = "sig_required"
    UNAUTHORIZED = "unauthorized"


_STATUS_ASN1 = {  # our value → asn1crypto's name
    OcspResponseStatus.SUCCESSFUL: "successful",
    OcspResponseStatus.MALFORMED_REQUEST: "malformed_request",
    OcspResponseStatus.INTERNAL_ERROR: "internal_error",
    OcspResponseStatus.TRY_LATER: "try_later",
    OcspResponseStatus.SIG_REQUIRED: "sign_required",
    OcspResponseStatus.UNAUTHORIZED: "unauthorized",
}
_STATUS_FROM_ASN1 = {v: k for k, v in _STATUS_ASN1.items()}


# --- CertID ----------------------------------------------------------------------------------


def _digest(hash_algorithm: str, data: bytes) -> bytes:
    factory = _HASH_FACTORIES.get(hash_algorithm)
    if factory is None:
        raise UnsupportedAlgorithm(
            f"CertID hash must be one of {sorted(_HASH_FACTORIES)}, not {hash_algorithm!r}"
        )
    h = _hashes.Hash(factory())
    h.update(data)
    return h.finalize()


def _subject_public_key_bits(cert: Certificate) -> bytes:
    spki = _x509.PublicKeyInfo.load(cert.public_key_info)
    return bytes(spki["public_key"].contents)[1:]  # drop the unused-bits byte


def key_hash(cert: Certificate, hash_algorithm: str = "sha1") -> bytes:
    """Hash of the subjectPublicKey BIT STRING value (CertID issuerKeyHash, ResponderID byKey)."""
    return _digest(hash_algorithm, _subject_public_key_bits(cert))


@dataclass(frozen=True)
class CertId:
    """Which certificate an OCSP request or single response is about."""

    hash_algorithm: str
    """``sha1``, ``sha256``, ``sm3``, or the dotted OID of a hash this module does not know."""
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial_number: int

    def matches(self, cert: Certificate, issuer: Certificate) -> bool:
        """True when this CertID names ``cert`` issued by ``issuer``, recomputed with this
        CertID's own hash (a responder may answer with another hash than was asked)."""
        if self.hash_algorithm not in _HASH_FACTORIES:
            return False
        return self == cert_id(cert, issuer, self.hash_algorithm)

    @property
    def key(self) -> str:
        """A stable text form, for cache keys and logs."""
        return (
            f"{self.hash_algorithm}:{self.issuer_name_hash.hex()}:"
            f"{self.issuer_key_hash.hex()}:{self.serial_number:x}"
        )

    def _asn1(self) -> dict[str, Any]:
        oid = OCSP_HASH_ALGORITHMS.get(self.hash_algorithm, self.hash_algorithm)
        return {
            "hash_algorithm": {"algorithm": oid, "parameters": _core.Null()},
            "issuer_name_hash": self.issuer_name_hash,
            "issuer_key_hash": self.issuer_key_hash,
            "serial_number": self.serial_number,
        }


def cert_id(cert: Certificate, issuer: Certificate, hash_algorithm: str = "sha1") -> CertId:
    """The CertID of ``cert``: hashes of its issuer name (as written in ``cert``) and of the
    issuer's public key, and its serial number."""
    return CertId(
        hash_algorithm=hash_algorithm,
        issuer_name_hash=_digest(hash_algorithm, cert.issuer.der),
        issuer_key_hash=key_hash(issuer, hash_algorithm),
        serial_number=cert.serial_number,
    )


def _parse_cert_id(value: Any) -> CertId:
    oid = value["hash_algorithm"]["algorithm"].dotted
    return CertId(
        hash_algorithm=_HASH_BY_OID.get(oid, oid),
        issuer_name_hash=bytes(value["issuer_name_hash"].native),
        issuer_key_hash=bytes(value["issuer_key_hash"].native),
        serial_number=int(value["serial_number"].native),
    )


# --- requests --------------------------------------------------------------------------------


def new_nonce(size: int = 16) -> bytes:
    """Fresh random nonce bytes (RFC 8954 allows 1-32; 16 is what most clients send)."""
    if not 16 <= size <= _NONCE_MAX:
        raise MalformedInput(f"a fresh nonce must be 16 to {_NONCE_MAX} bytes")
    return secrets.token_bytes(size)


@dataclass(frozen=True)
class OcspRequest:
    der: bytes
    cert_ids: tuple[CertId, ...]
    nonce: bytes | None
    signed: bool
    """Whether the request carries an optionalSignature (never checked here)."""


def _nonce_extension(nonce: bytes) -> dict[str, Any]:
    return {"extn_id": "nonce", "critical": False, "extn_value": _core.OctetString(nonce)}


def _check_nonce(nonce: bytes) -> bytes:
    if not isinstance(nonce, bytes) or not _NONCE_MIN <= len(nonce) <= _NONCE_MAX:
        raise MalformedInput(f"a nonce must be {_NONCE_MIN} to {_NONCE_MAX} bytes")
    return nonce


def build_ocsp_request(cert_ids: Sequence[CertId], *, nonce: bytes | bool = True) -> OcspRequest:
    """An unsigned OCSPRequest for ``cert_ids``. ``nonce=True`` adds 16 fresh random bytes,
    ``False`` none, bytes that value (1-32 bytes)."""
    if not cert_ids or not all(isinstance(c, CertId) for c in cert_ids):
        raise MalformedInput("an OCSP request needs at least one CertId")
    value: bytes | None
    if nonce is True:
        value = new_nonce()
    elif nonce is False:
        value = None
    else:
        value = _check_nonce(nonce)
    tbs: dict[str, Any] = {"request_list": [{"req_cert": c._asn1()} for c in cert_ids]}
    if value is not None:
        tbs["request_extensions"] = [_nonce_extension(value)]
    try:
        der = bytes(_ocsp.OCSPRequest({"tbs_request": tbs}).dump())
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedInput(f"cannot build OCSP request: {exc}") from exc
    return OcspRequest(der=der, cert_ids=tuple(cert_ids), nonce=value, signed=False)


def parse_ocsp_request(data: bytes) -> OcspRequest:
    """Parse a DER (or PEM) OCSPRequest; raises only ``CertInteropError`` subclasses."""
    der = _to_der(data, "OCSP request")
    return _guard("OCSP request", lambda: _parse_ocsp_request(der))


def _nonce_of(extensions: Any) -> bytes | None:
    """The nonce extension's value; tolerates responders that put the raw bytes in extnValue
    instead of an OCTET STRING inside it."""
    nonce: bytes | None = None
    seen: set[str] = set()
    for ext in extensions:
        oid = ext["extn_id"].dotted
        if oid in seen:
            raise MalformedInput(f"extension {oid} appears twice")
        seen.add(oid)
        if oid != OID_OCSP_NONCE:
            continue
        raw = bytes(ext["extn_value"].contents)
        try:
            nonce = bytes(_core.OctetString.load(raw, strict=True).native)
        except Exception:  # raw nonce bytes, not DER
            nonce = raw
    return nonce


def _parse_ocsp_request(der: bytes) -> OcspRequest:
    req = _ocsp.OCSPRequest.load(der, strict=True)
    tbs = req["tbs_request"]
    tbs["version"].native  # noqa: B018 - forces a parse of every field
    tbs["requestor_name"].native  # noqa: B018
    ids = [_parse_cert_id(r["req_cert"]) for r in tbs["request_list"]]
    for r in tbs["request_list"]:
        for ext in r["single_request_extensions"]:
            ext["extn_id"].dotted  # noqa: B018
            ext["critical"].native  # noqa: B018
    if not ids:
        raise MalformedInput("OCSP request without a CertID")
    signature = req["optional_signature"]
    signed = not isinstance(signature, _core.Void)
    if signed:
        signature["signature_algorithm"].native  # noqa: B018
        signature["signature"].native  # noqa: B018
        signature["certs"].native  # noqa: B018
    return OcspRequest(
        der=der, cert_ids=tuple(ids), nonce=_nonce_of(tbs["request_extensions"]), signed=signed
    )


# --- responses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SingleResponse:
    """One certificate's status in a response (and what a responder is told to answer)."""

    cert_id: CertId
    status: OcspCertStatus
    this_update: datetime
    next_update: datetime | None = None
    revoked_at: datetime | None = None
    reason: str | None = None
    """CRL reason name (``key_compromise`` …) when revoked and given."""


@dataclass(frozen=True)
class OcspResponse:
    der: bytes
    status: OcspResponseStatus
    responder_name: Name | None
    responder_key_hash: bytes | None
    """SHA-1 of the signer's subjectPublicKey, when the responder ID is by key."""
    produced_at: datetime | None
    responses: tuple[SingleResponse, ...]
    nonce: bytes | None
    certs: tuple[Certificate, ...]
    signature_algorithm_oid: str
    signature_algorithm: str
    tbs_bytes: bytes
    """The DER of ResponseData, what the signature covers."""
    signature: bytes

    def find(self, cert: Certificate, issuer: Certificate) -> SingleResponse | None:
        """The single response about ``cert`` (issued by ``issuer``), if any."""
        return next((r for r in self.responses if r.cert_id.matches(cert, issuer)), None)

    @property
    def responder(self) -> str:
        if self.responder_name is not None:
            return f"'{self.responder_name.rfc4514}'"
        if self.responder_key_hash is not None:
            return f"key hash {self.responder_key_hash.hex()}"
        return "(none)"


def _generalized(dt: datetime, what: str) -> _core.GeneralizedTime:
    if not isinstance(dt, datetime) or dt.tzinfo is None:
        raise MalformedInput(f"{what} must be a timezone-aware datetime")
    return _core.GeneralizedTime(dt.astimezone(UTC).replace(microsecond=0))


def _single_asn1(single: SingleResponse) -> dict[str, Any]:
    if not isinstance(single, SingleResponse):
        raise MalformedInput("responses must be SingleResponse objects")
    status: _ocsp.CertStatus
    if single.status == "good":
        status = _ocsp.CertStatus(name="good", value=_ocsp.StatusGood())
    elif single.status == "unknown":
        status = _ocsp.CertStatus(name="unknown", value=_ocsp.StatusUnknown())
    elif single.status == "revoked":
        if single.revoked_at is None:
            raise MalformedInput("a revoked single response needs revoked_at")
        info: dict[str, Any] = {
            "revocation_time": _generalized(single.revoked_at, "revoked_at"),
        }
        if single.reason is not None:
            if single.reason not in REVOCATION_REASONS:
                raise MalformedInput(f"unknown revocation reason {single.reason!r}")
            info["revocation_reason"] = single.reason
        status = _ocsp.CertStatus(name="revoked", value=_ocsp.RevokedInfo(info))
    else:
        raise MalformedInput("status must be 'good', 'revoked' or 'unknown'")
    out: dict[str, Any] = {
        "cert_id": single.cert_id._asn1(),
        "cert_status": status,
        "this_update": _generalized(single.this_update, "this_update"),
    }
    if single.next_update is not None:
        if single.next_update <= single.this_update:
            raise MalformedInput("nextUpdate must be after thisUpdate")
        out["next_update"] = _generalized(single.next_update, "next_update")
    return out


def build_ocsp_response(
    responses: Sequence[SingleResponse],
    *,
    signer: Certificate,
    signer_key: PrivateKey,
    produced_at: datetime | None = None,
    nonce: bytes | None = None,
    responder_id: Literal["name", "key"] = "name",
    certs: Sequence[Certificate] | None = None,
) -> OcspResponse:
    """A successful BasicOCSPResponse signed by ``signer_key`` (the CA's, or a delegated
    responder's whose certificate the CA issued with id-kp-OCSPSigning). ``nonce`` is the
    request's, echoed. ``certs`` defaults to the signer certificate, so a client can check a
    delegated responder without fetching anything."""
    if not responses:
        raise MalformedInput("an OCSP response needs at least one single response")
    if public_key_info(signer_key.public_key()) != signer.public_key_info:
        raise InvalidKey("signer key does not match the signer certificate")
    if responder_id not in ("name", "key"):
        raise MalformedInput("responder_id must be 'name' or 'key'")
    try:
        rid = (
            _ocsp.ResponderId(name="by_name", value=_x509.Name.load(signer.subject.der))
            if responder_id == "name"
            else _ocsp.ResponderId(name="by_key", value=key_hash(signer, "sha1"))
        )
        data: dict[str, Any] = {
            "responder_id": rid,
            "produced_at": _generalized(produced_at or datetime.now(UTC), "produced_at"),
            "responses": [_single_asn1(r) for r in responses],
        }
        if nonce is not None:
            data["response_extensions"] = [_nonce_extension(_check_nonce(nonce))]
        tbs_der = bytes(_ocsp.ResponseData(data).dump())
        included = [signer] if certs is None else list(certs)
        basic_fields: dict[str, Any] = {
            "tbs_response_data": _ocsp.ResponseData.load(tbs_der),
            "signature_algorithm": _sig_algorithm(signer_key),
            "signature": _sign(signer_key, tbs_der),
        }
        if included:
            basic_fields["certs"] = [_x509.Certificate.load(c.der) for c in included]
        basic = _ocsp.BasicOCSPResponse(basic_fields)
        der = bytes(
            _ocsp.OCSPResponse(
                {
                    "response_status": "successful",
                    "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
                }
            ).dump()
        )
    except CertInteropError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedInput(f"cannot build OCSP response: {exc}") from exc
    return parse_ocsp_response(der)


def build_ocsp_error_response(status: OcspResponseStatus) -> OcspResponse:
    """An unsigned error response (``try_later``, ``internal_error`` …)."""
    if not isinstance(status, OcspResponseStatus) or status is OcspResponseStatus.SUCCESSFUL:
        raise MalformedInput("an error response needs a status other than successful")
    der = bytes(_ocsp.OCSPResponse({"response_status": _STATUS_ASN1[status]}).dump())
    return parse_ocsp_response(der)


def parse_ocsp_response(data: bytes) -> OcspResponse:
    """Parse a DER (or PEM) OCSPResponse; raises only ``CertInteropError`` subclasses.

    Parsing says nothing about trust: see :func:`verify_ocsp_response`."""
    der = _to_der(data, "OCSP response")
    return _guard("OCSP response", lambda: _parse_ocsp_response(der))


def _parse_ocsp_response(der: bytes) -> OcspResponse:
    resp = _ocsp.OCSPResponse.load(der, strict=True)
    status_name = resp["response_status"].native
    status = _STATUS_FROM_ASN1.get(status_name)
    if status is None:
        raise MalformedInput(f"unknown OCSP response status {status_name!r}")
    rb = resp["response_bytes"]
    if status is not OcspResponseStatus.SUCCESSFUL:
        return OcspResponse(
            der=der,
            status=status,
            responder_name=None,
            responder_key_hash=None,
            produced_at=None,
            responses=(),
            nonce=None,
            certs=(),
            signature_algorithm_oid="",
            signature_algorithm="",
            tbs_bytes=b"",
            signature=b"",
        )
    if isinstance(rb, _core.Void):
        raise MalformedInput("a successful OCSP response without responseBytes")
    if rb["response_type"].dotted != OID_OCSP_BASIC:
        raise MalformedInput(f"unsupported OCSP response type {rb['response_type'].dotted}")
    basic = _ocsp.BasicOCSPResponse.load(bytes(rb["response"].contents), strict=True)
    tbs = basic["tbs_response_data"]
    if tbs["version"].native != "v1":
        raise MalformedInput("unknown OCSP response version")
    rid = tbs["responder_id"]
    responder_name: Name | None = None
    responder_key: bytes | None = None
    if rid.name == "by_name":
        responder_name = name_from_asn1(rid.chosen)
        responder_name.rfc4514  # noqa: B018 - decodes every attribute value now
    else:
        responder_key = bytes(rid.chosen.native)
    singles: list[SingleResponse] = []
    for single in tbs["responses"]:
        st = single["cert_status"]
        revoked_at: datetime | None = None
        reason: str | None = None
        if st.name == "revoked":
            revoked_at = _time(st.chosen["revocation_time"], "revocationTime")
            native_reason = st.chosen["revocation_reason"].native
            reason = str(native_reason) if native_reason is not None else None
        else:
            st.chosen.native  # noqa: B018
        nu = single["next_update"]
        for ext in single["single_extensions"]:
            ext["extn_id"].dotted  # noqa: B018
            ext["critical"].native  # noqa: B018
        singles.append(
            SingleResponse(
                cert_id=_parse_cert_id(single["cert_id"]),
                status=st.name,
                this_update=_time(single["this_update"], "thisUpdate"),
                next_update=_time(nu, "nextUpdate") if nu.native is not None else None,
                revoked_at=revoked_at,
                reason=reason,
            )
        )
    if not singles:
        raise MalformedInput("OCSP response without a single response")
    sig_oid, sig_name = _sig_alg(basic["signature_algorithm"])
    certs = tuple(parse_certificate(bytes(c.dump())) for c in basic["certs"])
    return OcspResponse(
        der=der,
        status=status,
        responder_name=responder_name,
        responder_key_hash=responder_key,
        produced_at=_time(tbs["produced_at"], "producedAt"),
        responses=tuple(singles),
        nonce=_nonce_of(tbs["response_extensions"]),
        certs=certs,
        signature_algorithm_oid=sig_oid,
        signature_algorithm=sig_name,
        tbs_bytes=bytes(tbs.dump()),
        signature=bytes(basic["signature"].native),
    )


# --- trust -----------------------------------------------------------------------------------


def _signature_ok(resp: OcspResponse, key: PublicKey) -> bool:
    """Like :func:`.parse.verify_signature`, over the ResponseData."""
    known = SIGNATURE_ALGORITHMS.get(resp.signature_algorithm_oid)
    if known is None:
        raise UnsupportedAlgorithm(
            f"unsupported OCSP signature algorithm {resp.signature_algorithm_oid}"
        )
    _name, key_alg, hash_name = known
    if key_alg == "sm2":
        if not isinstance(key, sm2.Sm2PublicKey):
            return False
        return sm2.verify(key, resp.signature, resp.tbs_bytes, fmt="der")
    algorithm = _SIGNATURE_HASHES[hash_name]()
    try:
        if key_alg == "rsa":
            if not isinstance(key, _crsa.RSAPublicKey):
                return False
            key.verify(resp.signature, resp.tbs_bytes, _padding.PKCS1v15(), algorithm)
        else:
            if not isinstance(key, _cec.EllipticCurvePublicKey):
                return False
            key.verify(resp.signature, resp.tbs_bytes, _cec.ECDSA(algorithm))
    except (InvalidSignature, ValueError):
        return False
    return True


def _names_signer(resp: OcspResponse, cert: Certificate) -> bool:
    if resp.responder_name is not None:
        return resp.responder_name.matches(cert.subject)
    if resp.responder_key_hash is not None:
        return resp.responder_key_hash == key_hash(cert, "sha1")
    return False


def _authorised(
    responder: Certificate, issuer: Certificate, at: datetime, skew: timedelta
) -> str | None:
    """Why ``responder`` may not sign for ``issuer`` (RFC 6960 §4.2.2.2), or None."""
    who = (
        f"responder certificate '{responder.subject.rfc4514}' (serial {responder.serial_number:x})"
    )
    if not responder.issuer.matches(issuer.subject):
        return f"{who} was issued by '{responder.issuer.rfc4514}', not by the certificate's issuer"
    aki, ski = responder.authority_key_identifier, issuer.subject_key_identifier
    if aki is not None and ski is not None and aki != ski:
        return f"{who} names another key of '{issuer.subject.rfc4514}' as its issuer"
    if not verify_signature(responder, issuer.public_key):
        return f"{who} does not verify under the key of '{issuer.subject.rfc4514}'"
    if OID_OCSP_SIGNING not in (responder.extended_key_usage or ()):
        return f"{who} lacks the id-kp-OCSPSigning extended key usage"
    if responder.key_usage is not None and "digital_signature" not in responder.key_usage:
        return f"{who} lacks the digitalSignature key usage"
    if at + skew < responder.not_before:
        return f"{who} is not valid before {responder.not_before.isoformat()}"
    if at - skew > responder.not_after:
        return f"{who} expired at {responder.not_after.isoformat()}"
    return None


def verify_ocsp_response(
    response: OcspResponse,
    issuer: Certificate,
    *,
    at: datetime | None = None,
    skew: timedelta = timedelta(minutes=5),
) -> Certificate:
    """The certificate whose key signed ``response``, when that signer may speak for
    ``issuer``: the issuer itself, or a delegated responder included in the response that the
    issuer signed, that carries id-kp-OCSPSigning and is valid at ``at`` ± ``skew``.

    Raises ``OcspResponseRejected`` with the precise reason otherwise (statuses other than
    successful included). Freshness, nonce and CertID are the caller's to check.
    """
    if response.status is not OcspResponseStatus.SUCCESSFUL:
        raise OcspResponseRejected(f"the responder answered {response.status.value}")
    when = at or datetime.now(UTC)
    candidates = [issuer, *(c for c in response.certs if c.der != issuer.der)]
    named = [c for c in candidates if _names_signer(response, c)]
    if not named:
        raise OcspResponseRejected(
            f"the responder ID ({response.responder}) names neither '{issuer.subject.rfc4514}' "
            "nor a certificate included in the response"
        )
    failures: list[str] = []
    for signer in named:
        is_issuer = signer.public_key_info == issuer.public_key_info
        try:
            if not is_issuer:
                why = _authorised(signer, issuer, when, skew)
                if why is not None:
                    failures.append(why)
                    continue
            if _signature_ok(response, signer.public_key):
                return signer
        except UnsupportedAlgorithm as exc:
            failures.append(str(exc))
            continue
        failures.append(
            f"the {response.signature_algorithm} signature of the response does not verify "
            f"under the key of '{signer.subject.rfc4514}'"
            + (" (the issuer)" if is_issuer else " (delegated responder)")
        )
    raise OcspResponseRejected("; ".join(failures))
