"""Parse X.509 certificates and CRLs (RSA, ECDSA, SM2) into frozen dataclasses; check one
signature against an issuer key.

``asn1crypto`` reads the structure (it takes any algorithm OID, so SM2 certificates parse);
keys come back through :mod:`cert_interop.keys`. Any input, however broken, gives a typed
:class:`cert_interop.errors.CertInteropError` (``MalformedInput`` for bad bytes), never another
exception. Inputs over 1 MiB are refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from asn1crypto import core as _core
from asn1crypto import crl as _crl
from asn1crypto import keys as _akeys
from asn1crypto import pem as _pem
from asn1crypto import x509 as _x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes as _hashes
from cryptography.hazmat.primitives.asymmetric import ec as _cec
from cryptography.hazmat.primitives.asymmetric import padding as _padding
from cryptography.hazmat.primitives.asymmetric import rsa as _crsa

from cert_interop import sm2
from cert_interop.errors import CertInteropError, MalformedInput, UnsupportedAlgorithm
from cert_interop.keys import PublicKey, load_public_key
from cert_interop.x509.names import Name, name_from_asn1

__all__ = [
    "MAX_INPUT_BYTES",
    "OID_SM2_CURVE",
    "OID_SM2_SM3",
    "SIGNATURE_ALGORITHMS",
    "BasicConstraints",
    "Certificate",
    "Crl",
    "Extension",
    "GeneralName",
    "RevokedEntry",
    "parse_certificate",
    "parse_crl",
    "verify_signature",
]

MAX_INPUT_BYTES = 1 << 20
OID_SM2_CURVE = "1.2.156.10197.1.301"
OID_SM2_SM3 = "1.2.156.10197.1.501"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_RSA = "1.2.840.113549.1.1.1"

KeyAlgorithm = Literal["rsa", "ec", "sm2"]

# signature OID → (name, key algorithm, hash)
SIGNATURE_ALGORITHMS: dict[str, tuple[str, str, str]] = {
    "1.2.840.113549.1.1.11": ("sha256WithRSAEncryption", "rsa", "sha256"),
    "1.2.840.113549.1.1.12": ("sha384WithRSAEncryption", "rsa", "sha384"),
    "1.2.840.113549.1.1.13": ("sha512WithRSAEncryption", "rsa", "sha512"),
    "1.2.840.10045.4.3.2": ("ecdsa-with-SHA256", "ec", "sha256"),
    "1.2.840.10045.4.3.3": ("ecdsa-with-SHA384", "ec", "sha384"),
    "1.2.840.10045.4.3.4": ("ecdsa-with-SHA512", "ec", "sha512"),
    OID_SM2_SM3: ("SM2-with-SM3", "sm2", "sm3"),
}
_HASHES: dict[str, Callable[[], _hashes.HashAlgorithm]] = {
    "sha256": _hashes.SHA256,
    "sha384": _hashes.SHA384,
    "sha512": _hashes.SHA512,
}

_STRING_TAGS = {12, 19, 20, 22, 26, 27, 28, 30, 18}  # UTF8, Printable, T61, IA5, Visible, …

_E = TypeVar("_E")


@dataclass(frozen=True)
class Extension:
    """One extension as it stands in the certificate, known or not."""

    oid: str
    critical: bool
    value_der: bytes
    """The content of extnValue (the DER inside the OCTET STRING)."""
    text: str | None
    """The decoded string when ``value_der`` is one DER string (e.g. a PrintableString holding a
    unified social credit code); otherwise None."""


@dataclass(frozen=True)
class GeneralName:
    kind: str
    """``dns``, ``email``, ``uri``, ``ip``, ``dirname``, ``rid`` or ``other``."""
    value: str


@dataclass(frozen=True)
class BasicConstraints:
    ca: bool
    path_length: int | None


@dataclass(frozen=True)
class Certificate:
    der: bytes
    version: int
    """1, 2 or 3."""
    serial_number: int
    issuer: Name
    subject: Name
    not_before: datetime
    not_after: datetime
    key_algorithm: KeyAlgorithm
    public_key: PublicKey
    public_key_info: bytes
    """SubjectPublicKeyInfo DER."""
    curve: str | None
    """Dotted curve OID for EC and SM2 keys."""
    signature_algorithm_oid: str
    signature_algorithm: str
    """Name such as ``sha256WithRSAEncryption``, ``ecdsa-with-SHA256``, ``SM2-with-SM3``."""
    tbs_bytes: bytes
    signature: bytes
    key_usage: frozenset[str] | None
    """asn1crypto names: ``digital_signature``, ``non_repudiation``, ``key_encipherment``,
    ``data_encipherment``, ``key_agreement``, ``key_cert_sign``, ``crl_sign``, …"""
    extended_key_usage: tuple[str, ...] | None
    """Dotted OIDs."""
    basic_constraints: BasicConstraints | None
    subject_key_identifier: bytes | None
    authority_key_identifier: bytes | None
    crl_distribution_points: tuple[str, ...]
    ocsp_urls: tuple[str, ...]
    ca_issuers_urls: tuple[str, ...]
    subject_alt_names: tuple[GeneralName, ...]
    extensions: tuple[Extension, ...]

    def extension(self, oid: str) -> Extension | None:
        return next((e for e in self.extensions if e.oid == oid), None)

    @property
    def is_ca(self) -> bool:
        return self.basic_constraints is not None and self.basic_constraints.ca

    @property
    def self_issued(self) -> bool:
        return self.subject.matches(self.issuer)

    @property
    def sha256_fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    def pem(self) -> bytes:
        return bytes(_pem.armor("CERTIFICATE", self.der))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        bc = self.basic_constraints
        return {
            "version": self.version,
            "serial_number": format(self.serial_number, "x"),
            "subject": self.subject.rfc4514,
            "subject_attributes": self.subject.as_list(),
            "issuer": self.issuer.rfc4514,
            "issuer_attributes": self.issuer.as_list(),
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "key_algorithm": self.key_algorithm,
            "curve": self.curve,
            "signature_algorithm": self.signature_algorithm,
            "signature_algorithm_oid": self.signature_algorithm_oid,
            "key_usage": sorted(self.key_usage) if self.key_usage is not None else None,
            "extended_key_usage": list(self.extended_key_usage)
            if self.extended_key_usage is not None
            else None,
            "basic_constraints": {"ca": bc.ca, "path_length": bc.path_length} if bc else None,
            "subject_key_identifier": _hex(self.subject_key_identifier),
            "authority_key_identifier": _hex(self.authority_key_identifier),
            "crl_distribution_points": list(self.crl_distribution_points),
            "ocsp_urls": list(self.ocsp_urls),
            "ca_issuers_urls": list(self.ca_issuers_urls),
            "subject_alt_names": [[g.kind, g.value] for g in self.subject_alt_names],
            "extensions": [_ext_dict(e) for e in self.extensions],
            "sha256_fingerprint": self.sha256_fingerprint,
        }


@dataclass(frozen=True)
class RevokedEntry:
    serial_number: int
    revocation_date: datetime
    reason: str | None
    """asn1crypto reason name (``key_compromise``, ``superseded``, …) or None."""


@dataclass(frozen=True)
class Crl:
    der: bytes
    version: int
    issuer: Name
    this_update: datetime
    next_update: datetime | None
    revoked: tuple[RevokedEntry, ...]
    crl_number: int | None
    authority_key_identifier: bytes | None
    signature_algorithm_oid: str
    signature_algorithm: str
    tbs_bytes: bytes
    signature: bytes
    extensions: tuple[Extension, ...]

    def entry(self, serial_number: int) -> RevokedEntry | None:
        return next((r for r in self.revoked if r.serial_number == serial_number), None)

    def pem(self) -> bytes:
        return bytes(_pem.armor("X509 CRL", self.der))

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "issuer": self.issuer.rfc4514,
            "issuer_attributes": self.issuer.as_list(),
            "this_update": self.this_update.isoformat(),
            "next_update": self.next_update.isoformat() if self.next_update else None,
            "crl_number": self.crl_number,
            "authority_key_identifier": _hex(self.authority_key_identifier),
            "signature_algorithm": self.signature_algorithm,
            "signature_algorithm_oid": self.signature_algorithm_oid,
            "revoked": [
                {
                    "serial_number": format(r.serial_number, "x"),
                    "revocation_date": r.revocation_date.isoformat(),
                    "reason": r.reason,
                }
                for r in self.revoked
            ],
            "extensions": [_ext_dict(e) for e in self.extensions],
        }


def _hex(value: bytes | None) -> str | None:
    return value.hex() if value is not None else None


def _ext_dict(e: Extension) -> dict[str, Any]:
    return {"oid": e.oid, "critical": e.critical, "value": e.value_der.hex(), "text": e.text}


# --- input -----------------------------------------------------------------------------------


def _to_der(data: object, label: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInput(f"{label} must be bytes")
    raw = bytes(data)
    if not raw:
        raise MalformedInput(f"{label} is empty")
    if len(raw) > MAX_INPUT_BYTES:
        raise MalformedInput(f"{label} is larger than {MAX_INPUT_BYTES} bytes")
    if raw.lstrip()[:10] == b"-----BEGIN":
        try:
            _kind, _headers, der = _pem.unarmor(raw.strip())
        except Exception as exc:
            raise MalformedInput(f"{label}: bad PEM") from exc
        raw = bytes(der)
        if not raw:
            raise MalformedInput(f"{label}: empty PEM body")
    return raw


def _time(value: Any, what: str) -> datetime:
    native = value.native
    if not isinstance(native, datetime):
        raise MalformedInput(f"{what} is not a time")
    if native.tzinfo is None:
        native = native.replace(tzinfo=UTC)
    return native


def _string_text(der: bytes) -> str | None:
    if not der or der[0] not in _STRING_TAGS:
        return None
    try:
        value = _core.Asn1Value.load(der, strict=True)
        native = value.native
    except Exception:
        return None
    return native if isinstance(native, str) else None


def _general_name(gn: Any) -> GeneralName:
    kind = gn.name
    mapping = {
        "dns_name": "dns",
        "rfc822_name": "email",
        "uniform_resource_identifier": "uri",
        "ip_address": "ip",
        "registered_id": "rid",
    }
    if kind == "directory_name":
        return GeneralName("dirname", name_from_asn1(gn.chosen).rfc4514)
    if kind in mapping:
        native = gn.native
        return GeneralName(mapping[kind], str(native))
    return GeneralName("other", bytes(gn.chosen.dump()).hex())


def _uris(names: Any) -> list[str]:
    return [str(gn.native) for gn in names if gn.name == "uniform_resource_identifier"]


def _extensions(seq: Any) -> tuple[Extension, ...]:
    out: list[Extension] = []
    seen: set[str] = set()
    for ext in seq:
        oid = ext["extn_id"].dotted
        if oid in seen:
            raise MalformedInput(f"extension {oid} appears twice")
        seen.add(oid)
        inner = bytes(ext["extn_value"].contents)
        out.append(Extension(oid, bool(ext["critical"].native), inner, _string_text(inner)))
    return tuple(out)


def _parse_fully(cert: Any) -> None:
    """Parse every field so structural errors surface here, except the values of extensions
    asn1crypto does not know: some CAs put raw bytes (not DER) there, and those stay as bytes."""
    tbs = cert["tbs_certificate"]
    for name in tbs:
        if name != "extensions":
            tbs[name].native  # noqa: B018
    cert["signature_algorithm"].native  # noqa: B018
    cert["signature_value"].native  # noqa: B018
    if isinstance(tbs["extensions"], _core.Void):
        return
    for ext in tbs["extensions"]:
        name = ext["extn_id"].native
        ext["critical"].native  # noqa: B018
        if name != ext["extn_id"].dotted:  # a known extension: its value must parse
            ext["extn_value"].parsed.native  # noqa: B018


def _sig_alg(algo: Any) -> tuple[str, str]:
    oid = algo["algorithm"].dotted
    known = SIGNATURE_ALGORITHMS.get(oid)
    return oid, (known[0] if known else oid)


def _public_key(spki: _akeys.PublicKeyInfo) -> tuple[KeyAlgorithm, PublicKey, str | None]:
    alg_oid = spki["algorithm"]["algorithm"].dotted
    der = bytes(spki.dump())
    if alg_oid == OID_RSA:
        key = load_public_key(der)
        return "rsa", key, None
    curve: str | None = None
    if alg_oid == OID_EC_PUBLIC_KEY:
        params = spki["algorithm"]["parameters"]
        if params.name != "named":
            raise UnsupportedAlgorithm("EC keys with explicit curve parameters are not supported")
        curve = params.chosen.dotted
    elif alg_oid == OID_SM2_CURVE:  # some SM2 kits put the curve OID as the algorithm
        curve = OID_SM2_CURVE
    else:
        raise UnsupportedAlgorithm(f"unsupported public key algorithm {alg_oid}")
    if curve == OID_SM2_CURVE:
        point = bytes(spki["public_key"].native)
        return "sm2", sm2.public_key_from_hex(point.hex()), curve
    return "ec", load_public_key(der), curve


def _guard(what: str, fn: Callable[[], _E]) -> _E:
    try:
        return fn()
    except CertInteropError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, …
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        why = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        raise MalformedInput(f"cannot parse {what}: {why}") from exc


# --- certificates ----------------------------------------------------------------------------


def parse_certificate(data: bytes) -> Certificate:
    """Parse a PEM or DER certificate; raises only ``CertInteropError`` subclasses."""
    der = _to_der(data, "certificate")
    return _guard("certificate", lambda: _parse_certificate(der))


def _parse_certificate(der: bytes) -> Certificate:
    cert = _x509.Certificate.load(der, strict=True)
    _parse_fully(cert)
    tbs = cert["tbs_certificate"]
    sig_oid, sig_name = _sig_alg(cert["signature_algorithm"])
    inner_oid, _ = _sig_alg(tbs["signature"])
    if inner_oid != sig_oid:
        raise MalformedInput("signature algorithm differs between TBS and certificate")
    version = {"v1": 1, "v2": 2, "v3": 3}.get(tbs["version"].native)
    if version is None:
        raise MalformedInput("unknown certificate version")
    has_extensions = not isinstance(tbs["extensions"], _core.Void)
    extensions = _extensions(tbs["extensions"]) if has_extensions else ()
    if version != 3 and extensions:
        raise MalformedInput("extensions in a certificate that is not v3")
    key_alg, pub, curve = _public_key(tbs["subject_public_key_info"])
    validity = tbs["validity"]

    key_usage: frozenset[str] | None = None
    eku: tuple[str, ...] | None = None
    bc: BasicConstraints | None = None
    ski: bytes | None = None
    aki: bytes | None = None
    crl_dp: list[str] = []
    ocsp: list[str] = []
    ca_issuers: list[str] = []
    san: list[GeneralName] = []
    for ext in tbs["extensions"] if has_extensions else ():
        name = ext["extn_id"].native
        if name == ext["extn_id"].dotted:
            continue  # unknown to asn1crypto: kept raw in `extensions`, never parsed
        value = ext["extn_value"].parsed
        if name == "key_usage":
            key_usage = frozenset(value.native)
        elif name == "extended_key_usage":
            eku = tuple(purpose.dotted for purpose in value)
        elif name == "basic_constraints":
            bc = BasicConstraints(bool(value["ca"].native), value["path_len_constraint"].native)
        elif name == "key_identifier":
            ski = bytes(value.native)
        elif name == "authority_key_identifier":
            kid = value["key_identifier"].native
            aki = bytes(kid) if kid is not None else None
        elif name == "crl_distribution_points":
            for dp in value:
                point = dp["distribution_point"]
                if point.name == "full_name":
                    crl_dp.extend(_uris(point.chosen))
        elif name == "authority_information_access":
            for ad in value:
                method = ad["access_method"].native
                loc = ad["access_location"]
                if loc.name != "uniform_resource_identifier":
                    continue
                if method == "ocsp":
                    ocsp.append(str(loc.native))
                elif method == "ca_issuers":
                    ca_issuers.append(str(loc.native))
        elif name == "subject_alt_name":
            san.extend(_general_name(gn) for gn in value)

    return Certificate(
        der=der,
        version=version,
        serial_number=int(tbs["serial_number"].native),
        issuer=name_from_asn1(tbs["issuer"]),
        subject=name_from_asn1(tbs["subject"]),
        not_before=_time(validity["not_before"], "notBefore"),
        not_after=_time(validity["not_after"], "notAfter"),
        key_algorithm=key_alg,
        public_key=pub,
        public_key_info=bytes(tbs["subject_public_key_info"].dump()),
        curve=curve,
        signature_algorithm_oid=sig_oid,
        signature_algorithm=sig_name,
        tbs_bytes=bytes(tbs.dump()),
        signature=bytes(cert["signature_value"].native),
        key_usage=key_usage,
        extended_key_usage=eku,
        basic_constraints=bc,
        subject_key_identifier=ski,
        authority_key_identifier=aki,
        crl_distribution_points=tuple(crl_dp),
        ocsp_urls=tuple(ocsp),
        ca_issuers_urls=tuple(ca_issuers),
        subject_alt_names=tuple(san),
        extensions=extensions,
    )


# --- CRLs ------------------------------------------------------------------------------------


def parse_crl(data: bytes) -> Crl:
    """Parse a PEM or DER CRL; raises only ``CertInteropError`` subclasses."""
    der = _to_der(data, "CRL")
    return _guard("CRL", lambda: _parse_crl(der))


def _parse_crl(der: bytes) -> Crl:
    cl = _crl.CertificateList.load(der, strict=True)
    cl.native  # noqa: B018 - forces a full parse
    tbs = cl["tbs_cert_list"]
    sig_oid, sig_name = _sig_alg(cl["signature_algorithm"])
    inner_oid, _ = _sig_alg(tbs["signature"])
    if inner_oid != sig_oid:
        raise MalformedInput("signature algorithm differs between TBS and CRL")
    version = 2 if tbs["version"].native == "v2" else 1
    revoked: list[RevokedEntry] = []
    for entry in tbs["revoked_certificates"]:
        reason = None
        for ext in entry["crl_entry_extensions"]:
            if ext["extn_id"].native == "crl_reason":
                reason = str(ext["extn_value"].parsed.native)
        revoked.append(
            RevokedEntry(
                serial_number=int(entry["user_certificate"].native),
                revocation_date=_time(entry["revocation_date"], "revocationDate"),
                reason=reason,
            )
        )
    next_update = tbs["next_update"]
    crl_number: int | None = None
    aki: bytes | None = None
    for ext in tbs["crl_extensions"]:
        name = ext["extn_id"].native
        if name == "crl_number":
            crl_number = int(ext["extn_value"].parsed.native)
        elif name == "authority_key_identifier":
            kid = ext["extn_value"].parsed["key_identifier"].native
            aki = bytes(kid) if kid is not None else None
    return Crl(
        der=der,
        version=version,
        issuer=name_from_asn1(tbs["issuer"]),
        this_update=_time(tbs["this_update"], "thisUpdate"),
        next_update=_time(next_update, "nextUpdate") if next_update.native is not None else None,
        revoked=tuple(revoked),
        crl_number=crl_number,
        authority_key_identifier=aki,
        signature_algorithm_oid=sig_oid,
        signature_algorithm=sig_name,
        tbs_bytes=bytes(tbs.dump()),
        signature=bytes(cl["signature"].native),
        extensions=_extensions(tbs["crl_extensions"]),
    )


# --- signatures ------------------------------------------------------------------------------


def verify_signature(obj: Certificate | Crl, issuer_public_key: PublicKey) -> bool:
    """True when ``obj``'s signature over its TBS verifies under ``issuer_public_key``.

    A wrong key, a key of another algorithm or a tampered TBS/signature give False; a signature
    algorithm this library does not know raises ``UnsupportedAlgorithm``. SM2-with-SM3 applies the
    Z value of the default ID (GM/T 0015).
    """
    known = SIGNATURE_ALGORITHMS.get(obj.signature_algorithm_oid)
    if known is None:
        raise UnsupportedAlgorithm(f"unsupported signature algorithm {obj.signature_algorithm_oid}")
    _name, key_alg, hash_name = known
    if key_alg == "sm2":
        if not isinstance(issuer_public_key, sm2.Sm2PublicKey):
            return False
        return sm2.verify(issuer_public_key, obj.signature, obj.tbs_bytes, fmt="der")
    algorithm = _HASHES[hash_name]()
    try:
        if key_alg == "rsa":
            if not isinstance(issuer_public_key, _crsa.RSAPublicKey):
                return False
            issuer_public_key.verify(obj.signature, obj.tbs_bytes, _padding.PKCS1v15(), algorithm)
        else:
            if not isinstance(issuer_public_key, _cec.EllipticCurvePublicKey):
                return False
            issuer_public_key.verify(obj.signature, obj.tbs_bytes, _cec.ECDSA(algorithm))
    except (InvalidSignature, ValueError):
        return False
    return True
