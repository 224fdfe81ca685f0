"""Issue X.509 certificates and CRLs for RSA, ECDSA and SM2 keys.

The structure is built with ``asn1crypto`` and the TBS is signed with the issuer key; the issuer
key's type decides the signature algorithm: RSA → sha256WithRSAEncryption, EC →
ecdsa-with-SHA256, SM2 → SM2-with-SM3 (1.2.156.10197.1.501, Z value of the default ID over the
TBS, GM/T 0015). SM2 subject keys are written as id-ecPublicKey on curve 1.2.156.10197.1.301.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import core as _core
from asn1crypto import crl as _crl
from asn1crypto import keys as _akeys
from asn1crypto import x509 as _x509
from cryptography.hazmat.primitives import hashes as _hashes
from cryptography.hazmat.primitives.asymmetric import ec as _cec
from cryptography.hazmat.primitives.asymmetric import padding as _padding
from cryptography.hazmat.primitives.asymmetric import rsa as _crsa

from cert_interop import sm2
from cert_interop.errors import CertInteropError, InvalidKey, MalformedInput
from cert_interop.keys import PrivateKey, PublicKey, dump_public_key
from cert_interop.x509.names import NameSpec, build_name
from cert_interop.x509.parse import (
    OID_SM2_CURVE,
    OID_SM2_SM3,
    Certificate,
    Crl,
    parse_certificate,
    parse_crl,
)

__all__ = [
    "KEY_USAGES",
    "ExtensionSpec",
    "Revocation",
    "build_certificate",
    "build_crl",
    "key_identifier",
    "public_key_info",
    "string_extension",
]

KEY_USAGES = frozenset(
    {
        "digital_signature",
        "non_repudiation",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    }
)
_EKU_NAMES = {
    "server_auth": "1.3.6.1.5.5.7.3.1",
    "client_auth": "1.3.6.1.5.5.7.3.2",
    "code_signing": "1.3.6.1.5.5.7.3.3",
    "email_protection": "1.3.6.1.5.5.7.3.4",
    "time_stamping": "1.3.6.1.5.5.7.3.8",
    "ocsp_signing": "1.3.6.1.5.5.7.3.9",
}
REVOCATION_REASONS = frozenset(
    {
        "unspecified",
        "key_compromise",
        "ca_compromise",
        "affiliation_changed",
        "superseded",
        "cessation_of_operation",
        "certificate_hold",
        "remove_from_crl",
        "privilege_withdrawn",
        "aa_compromise",
    }
)
_STRING_TYPES: dict[str, type[_core.AbstractString]] = {
    "printable": _core.PrintableString,
    "utf8": _core.UTF8String,
    "ia5": _core.IA5String,
}
_UTC_LIMIT = datetime(2050, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExtensionSpec:
    """An extra extension: ``value_der`` is the DER that goes inside extnValue."""

    oid: str
    value_der: bytes
    critical: bool = False


@dataclass(frozen=True)
class Revocation:
    serial_number: int
    revocation_date: datetime
    reason: str | None = None


def string_extension(
    oid: str, value: str, *, kind: str = "printable", critical: bool = False
) -> ExtensionSpec:
    """An extension whose value is one DER string, e.g. a unified social credit code in
    1.2.156.10260.4.1.4 as a PrintableString."""
    cls = _STRING_TYPES.get(kind)
    if cls is None:
        raise MalformedInput(f"string kind must be one of {sorted(_STRING_TYPES)}")
    return ExtensionSpec(oid, bytes(cls(value).dump()), critical)


def public_key_info(key: PublicKey) -> bytes:
    """SubjectPublicKeyInfo DER; SM2 as id-ecPublicKey with the SM2 curve OID."""
    if isinstance(key, sm2.Sm2PublicKey):
        spki = _akeys.PublicKeyInfo(
            {
                "algorithm": {
                    "algorithm": "ec",
                    "parameters": _akeys.ECDomainParameters(name="named", value=OID_SM2_CURVE),
                },
                "public_key": b"\x04" + key.xy,
            }
        )
        return bytes(spki.dump())
    return dump_public_key(key, "der")


def key_identifier(key: PublicKey) -> bytes:
    """RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING value."""
    spki = _akeys.PublicKeyInfo.load(public_key_info(key))
    bits = bytes(spki["public_key"].contents)[1:]  # drop the unused-bits byte
    return hashlib.sha1(bits, usedforsecurity=False).digest()


def _time(dt: datetime) -> _x509.Time:
    if dt.tzinfo is None:
        raise MalformedInput("times must be timezone-aware")
    dt = dt.astimezone(UTC).replace(microsecond=0)
    if dt < _UTC_LIMIT:
        return _x509.Time(name="utc_time", value=dt)
    return _x509.Time(name="general_time", value=dt)


def _sig_algorithm(key: PrivateKey) -> dict[str, Any]:
    if isinstance(key, sm2.Sm2PrivateKey):
        return {"algorithm": OID_SM2_SM3}
    if isinstance(key, _crsa.RSAPrivateKey):
        return {"algorithm": "sha256_rsa", "parameters": _core.Null()}
    if isinstance(key, _cec.EllipticCurvePrivateKey):
        return {"algorithm": "sha256_ecdsa"}
    raise InvalidKey("issuer key must be an SM2, RSA or EC private key")


def _sign(key: PrivateKey, tbs: bytes) -> bytes:
    if isinstance(key, sm2.Sm2PrivateKey):
        return sm2.sign(key, tbs, fmt="der")
    if isinstance(key, _crsa.RSAPrivateKey):
        return key.sign(tbs, _padding.PKCS1v15(), _hashes.SHA256())
    if isinstance(key, _cec.EllipticCurvePrivateKey):
        return key.sign(tbs, _cec.ECDSA(_hashes.SHA256()))
    raise InvalidKey("issuer key must be an SM2, RSA or EC private key")


def _ext(oid_or_name: str, value: Any, critical: bool = False) -> _x509.Extension:
    return _x509.Extension({"extn_id": oid_or_name, "critical": critical, "extn_value": value})


def _uri(url: str) -> _x509.GeneralName:
    return _x509.GeneralName(name="uniform_resource_identifier", value=url)


def _uri_names(urls: Iterable[str]) -> list[_x509.GeneralName]:
    return [_uri(u) for u in urls]


def _general_name(kind: str, value: str) -> _x509.GeneralName:
    mapping = {
        "dns": "dns_name",
        "email": "rfc822_name",
        "uri": "uniform_resource_identifier",
        "ip": "ip_address",
    }
    if kind not in mapping:
        raise MalformedInput(f"subject alternative name kind must be one of {sorted(mapping)}")
    return _x509.GeneralName(name=mapping[kind], value=value)


def _serial(serial_number: int | None) -> int:
    if serial_number is None:
        return secrets.randbits(63) | (1 << 62)  # positive, 8 bytes of DER, never zero
    if not isinstance(serial_number, int) or serial_number <= 0 or serial_number.bit_length() > 159:
        raise MalformedInput("serial number must be a positive integer of at most 20 bytes")
    return serial_number


def _same_key(private: PrivateKey, public: PublicKey) -> bool:
    return public_key_info(private.public_key()) == public_key_info(public)


def build_certificate(
    *,
    subject: NameSpec,
    subject_public_key: PublicKey,
    issuer_key: PrivateKey,
    issuer: Certificate | None = None,
    serial_number: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = 365,
    ca: bool | None = None,
    path_length: int | None = None,
    key_usage: Iterable[str] | None = None,
    extended_key_usage: Iterable[str] | None = None,
    crl_urls: Sequence[str] = (),
    ocsp_urls: Sequence[str] = (),
    ca_issuers_urls: Sequence[str] = (),
    subject_alt_names: Sequence[tuple[str, str]] = (),
    extra_extensions: Sequence[ExtensionSpec] = (),
) -> Certificate:
    """Issue a v3 certificate and return it parsed.

    ``issuer=None`` makes a self-signed certificate (issuer name = subject, signed by
    ``issuer_key``, which must then match ``subject_public_key``). ``ca`` writes basic
    constraints (critical) when not None; ``path_length`` only with ``ca=True``. Key usage is
    critical; SKI is always written, AKI from the issuer's SKI (or its key).
    ``extended_key_usage`` takes names (``server_auth``, ``client_auth``, …) or dotted OIDs.
    """
    try:
        return _build_certificate(
            subject=subject,
            subject_public_key=subject_public_key,
            issuer_key=issuer_key,
            issuer=issuer,
            serial_number=serial_number,
            not_before=not_before,
            not_after=not_after,
            days=days,
            ca=ca,
            path_length=path_length,
            key_usage=key_usage,
            extended_key_usage=extended_key_usage,
            crl_urls=crl_urls,
            ocsp_urls=ocsp_urls,
            ca_issuers_urls=ca_issuers_urls,
            subject_alt_names=subject_alt_names,
            extra_extensions=extra_extensions,
        )
    except CertInteropError:
        raise
    except (ValueError, TypeError, KeyError) as exc:  # asn1crypto refusing a value
        raise MalformedInput(f"cannot build certificate: {exc}") from exc


def _build_certificate(
    *,
    subject: NameSpec,
    subject_public_key: PublicKey,
    issuer_key: PrivateKey,
    issuer: Certificate | None,
    serial_number: int | None,
    not_before: datetime | None,
    not_after: datetime | None,
    days: int,
    ca: bool | None,
    path_length: int | None,
    key_usage: Iterable[str] | None,
    extended_key_usage: Iterable[str] | None,
    crl_urls: Sequence[str],
    ocsp_urls: Sequence[str],
    ca_issuers_urls: Sequence[str],
    subject_alt_names: Sequence[tuple[str, str]],
    extra_extensions: Sequence[ExtensionSpec],
) -> Certificate:
    subject_name = build_name(subject)
    spki_der = public_key_info(subject_public_key)
    if issuer is None:
        if not _same_key(issuer_key, subject_public_key):
            raise InvalidKey("a self-signed certificate needs the subject's own private key")
        issuer_name = subject_name
        aki: bytes | None = key_identifier(subject_public_key)
    else:
        if not _same_key(issuer_key, issuer.public_key):
            raise InvalidKey("issuer key does not match the issuer certificate")
        issuer_name = _x509.Name.load(issuer.subject.der)
        aki = issuer.subject_key_identifier or key_identifier(issuer.public_key)
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    end = not_after or start + timedelta(days=days)
    if end <= start:
        raise MalformedInput("notAfter must be after notBefore")
    if path_length is not None and (ca is not True or path_length < 0):
        raise MalformedInput("path length needs ca=True and a non-negative value")

    exts: list[_x509.Extension] = []
    if ca is not None:
        bc: dict[str, Any] = {"ca": ca}
        if path_length is not None:
            bc["path_len_constraint"] = path_length
        exts.append(_ext("basic_constraints", bc, critical=True))
    if key_usage is not None:
        usages = set(key_usage)
        unknown = usages - KEY_USAGES
        if unknown or not usages:
            raise MalformedInput(f"unknown or empty key usage {sorted(unknown)}")
        exts.append(_ext("key_usage", usages, critical=True))
    if extended_key_usage is not None:
        purposes = [_EKU_NAMES.get(p, p) for p in extended_key_usage]
        if not purposes:
            raise MalformedInput("extended key usage must not be empty")
        exts.append(_ext("extended_key_usage", purposes))
    exts.append(_ext("key_identifier", key_identifier(subject_public_key)))
    if aki is not None:
        exts.append(_ext("authority_key_identifier", {"key_identifier": aki}))
    if crl_urls:
        dps = [
            {
                "distribution_point": _x509.DistributionPointName(
                    name="full_name", value=_uri_names(crl_urls)
                )
            }
        ]
        exts.append(_ext("crl_distribution_points", dps))
    access = [{"access_method": "ocsp", "access_location": _uri(u)} for u in ocsp_urls] + [
        {"access_method": "ca_issuers", "access_location": _uri(u)} for u in ca_issuers_urls
    ]
    if access:
        exts.append(_ext("authority_information_access", access))
    if subject_alt_names:
        exts.append(_ext("subject_alt_name", [_general_name(k, v) for k, v in subject_alt_names]))
    for spec in extra_extensions:
        exts.append(_ext(spec.oid, _core.ParsableOctetString(spec.value_der), spec.critical))
    oids = [e["extn_id"].dotted for e in exts]
    if len(set(oids)) != len(oids):
        raise MalformedInput("an extension is given twice")

    sig_alg = _sig_algorithm(issuer_key)
    tbs = _x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": _serial(serial_number),
            "signature": sig_alg,
            "issuer": issuer_name,
            "validity": {"not_before": _time(start), "not_after": _time(end)},
            "subject": subject_name,
            "subject_public_key_info": _akeys.PublicKeyInfo.load(spki_der),
            "extensions": exts,
        }
    )
    tbs_der = bytes(tbs.dump())
    cert = _x509.Certificate(
        {
            "tbs_certificate": _x509.TbsCertificate.load(tbs_der),
            "signature_algorithm": sig_alg,
            "signature_value": _sign(issuer_key, tbs_der),
        }
    )
    return parse_certificate(bytes(cert.dump()))


def build_crl(
    *,
    issuer: Certificate,
    issuer_key: PrivateKey,
    revoked: Iterable[Revocation] = (),
    this_update: datetime | None = None,
    next_update: datetime | None = None,
    days: int = 7,
    crl_number: int = 1,
) -> Crl:
    """Issue a v2 CRL for ``issuer`` (AKI and CRL number written; reasons as entry extensions)."""
    if not _same_key(issuer_key, issuer.public_key):
        raise InvalidKey("issuer key does not match the issuer certificate")
    start = this_update or datetime.now(UTC) - timedelta(minutes=5)
    end = next_update or start + timedelta(days=days)
    if end <= start:
        raise MalformedInput("nextUpdate must be after thisUpdate")
    if crl_number < 0:
        raise MalformedInput("CRL number must not be negative")
    entries: list[dict[str, Any]] = []
    for r in revoked:
        entry: dict[str, Any] = {
            "user_certificate": _serial(r.serial_number),
            "revocation_date": _time(r.revocation_date),
        }
        if r.reason is not None:
            if r.reason not in REVOCATION_REASONS:
                raise MalformedInput(f"unknown CRL reason {r.reason!r}")
            entry["crl_entry_extensions"] = [
                {"extn_id": "crl_reason", "critical": False, "extn_value": r.reason}
            ]
        entries.append(entry)
    aki = issuer.subject_key_identifier or key_identifier(issuer.public_key)
    sig_alg = _sig_algorithm(issuer_key)
    tbs_fields: dict[str, Any] = {
        "version": "v2",
        "signature": sig_alg,
        "issuer": _x509.Name.load(issuer.subject.der),
        "this_update": _time(start),
        "next_update": _time(end),
        "crl_extensions": [
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": aki},
            },
            {"extn_id": "crl_number", "critical": False, "extn_value": crl_number},
        ],
    }
    if entries:
        tbs_fields["revoked_certificates"] = entries
    try:
        tbs_der = bytes(_crl.TbsCertList(tbs_fields).dump())
        cl = _crl.CertificateList(
            {
                "tbs_cert_list": _crl.TbsCertList.load(tbs_der),
                "signature_algorithm": sig_alg,
                "signature": _sign(issuer_key, tbs_der),
            }
        )
        der = bytes(cl.dump())
    except CertInteropError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedInput(f"cannot build CRL: {exc}") from exc
    return parse_crl(der)
