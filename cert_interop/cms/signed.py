"""CMS SignedData (RFC 5652) and its GM/T 0010 form: sign and verify, streamed.

``sign`` writes attached or detached SignedData for one or several signers (RSA PKCS#1 v1.5,
ECDSA, SM2 with SM3 and the Z value of the default ID), with the signed attributes contentType,
messageDigest and signingTime, the signers' certificates, and SignerIdentifier
issuerAndSerialNumber. SM2-only messages use the GM/T 0010 content types by default, because
Chinese CA toolchains look for them; anything else uses the standard ones.

``verify`` reads standard and GM/T 0010 messages, definite or indefinite lengths, content
attached or given apart, and answers per signer. A tampered message is an invalid result; input
that does not parse raises :class:`~cert_interop.errors.MalformedInput`. The signer's chain is
not validated here: hand ``result.signers[i].certificate`` to the trust store.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, overload

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cert_interop import signatures as _sigs
from cert_interop import sm2
from cert_interop.cms import der, signer_info
from cert_interop.cms import oids as O
from cert_interop.cms.ber import (
    CONTEXT,
    UNIVERSAL,
    BerReader,
    Mark,
    children,
    guard,
    read_int,
    read_oid,
)
from cert_interop.cms.content_info import enter_content_info, leave_content_info
from cert_interop.cms.signer_info import HASHES, DigestKey
from cert_interop.cms.status import SignedDataResult
from cert_interop.cms.streams import (
    CHUNK,
    Readable,
    Source,
    Writable,
    as_reader,
    chunks,
    open_input,
    read_exactly,
    remaining_length,
)
from cert_interop.errors import (
    CertInteropError,
    InvalidKey,
    MalformedInput,
    UnsupportedAlgorithm,
)
from cert_interop.keys import PrivateKey, dump_public_key
from cert_interop.x509 import Certificate, parse_certificate

__all__ = ["SIGN_DIGESTS", "ExternalSigner", "Signer", "SigningKey", "sign", "verify"]


class ExternalSigner(Protocol):
    """A key that signs without handing out its private half (a USBKey, an HSM, a platform key
    service): what :func:`cert_interop.signatures.sign` does, for the key of the certificate
    it is paired with. CMS only ever gives it the DER of the signed attributes as ``data``."""

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes: ...


SigningKey = PrivateKey | ExternalSigner
Signer = tuple[SigningKey, Certificate] | tuple[SigningKey, Certificate, Sequence[Certificate]]
"""A signing key, its certificate, and (optionally) more certificates to include (its chain)."""

SIGN_DIGESTS = ("sha256", "sha384", "sha512", "sm3")
MAX_SIGNERS = 64
MAX_SMALL = 64 << 10
"""Largest version / digestAlgorithms element accepted."""
MAX_CERTIFICATES = 8 << 20
"""Largest certificates (and crls) field accepted."""
MAX_SIGNER_INFOS = 1 << 20


# ---------------------------------------------------------------------------------------------
# signing


@dataclass(frozen=True)
class _Plan:
    key: SigningKey
    cert: Certificate
    extra: tuple[Certificate, ...]
    digest: str
    family: str
    algorithm: str
    """Name for :func:`cert_interop.signatures.sign`."""
    signature_oid: str
    signature_params: bytes | None


_PRIVATE_KEYS = (sm2.Sm2PrivateKey, rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)


def _same_key(key: PrivateKey, cert: Certificate) -> bool:
    return dump_public_key(key.public_key(), "der") == dump_public_key(cert.public_key, "der")


def _external_plan(
    key: ExternalSigner, cert: Certificate, extra: tuple[Certificate, ...], digest: str | None
) -> _Plan:
    """For a key we cannot see: the algorithm follows the certificate's key."""
    d = digest or "sha256"
    if cert.key_algorithm == "sm2":
        return _Plan(key, cert, extra, "sm3", "sm2", "sm2-sm3", O.SM2_SIGN, None)
    if d == "sm3":
        raise UnsupportedAlgorithm("SM3 is for SM2 signers; RSA and ECDSA use SHA-2")
    if cert.key_algorithm == "rsa":
        return _Plan(key, cert, extra, d, "rsa", f"rsa-pkcs1-{d}", O.RSA_ENCRYPTION, der.NULL_TLV)
    return _Plan(key, cert, extra, d, "ecdsa", f"ecdsa-{d}", O.ECDSA_BY_HASH[d], None)


def _plan(signer: Signer, digest: str | None) -> _Plan:
    if not isinstance(signer, tuple) or len(signer) not in (2, 3):
        raise MalformedInput("a signer is (private key, certificate[, extra certificates])")
    key, cert = signer[0], signer[1]
    extra = tuple(signer[2]) if len(signer) == 3 else ()
    if not isinstance(cert, Certificate) or not all(isinstance(c, Certificate) for c in extra):
        raise MalformedInput("signer certificates must be parsed Certificate objects")
    usage = cert.key_usage
    if usage is not None and not usage & {"digital_signature", "non_repudiation"}:
        raise InvalidKey(f"{cert.subject.rfc4514} is not a signing certificate (key usage)")
    if digest is not None and digest not in SIGN_DIGESTS:
        raise UnsupportedAlgorithm(f"digest {digest!r} is not one of {', '.join(SIGN_DIGESTS)}")
    if not isinstance(key, _PRIVATE_KEYS):
        if not callable(getattr(key, "sign", None)):
            raise InvalidKey("a signer needs a private key or an object with sign()")
        return _external_plan(key, cert, extra, digest)
    if not _same_key(key, cert):
        raise InvalidKey(f"the signing key does not belong to {cert.subject.rfc4514}")
    if isinstance(key, sm2.Sm2PrivateKey):  # always SM3, whatever the RSA/ECDSA signers use
        return _Plan(key, cert, extra, "sm3", "sm2", "sm2-sm3", O.SM2_SIGN, None)
    d = digest or "sha256"
    if d == "sm3":
        raise UnsupportedAlgorithm("SM3 is for SM2 signers; RSA and ECDSA use SHA-2")
    if isinstance(key, rsa.RSAPrivateKey):
        # rsaEncryption as the signature algorithm, as OpenSSL writes it
        return _Plan(key, cert, extra, d, "rsa", f"rsa-pkcs1-{d}", O.RSA_ENCRYPTION, der.NULL_TLV)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return _Plan(key, cert, extra, d, "ecdsa", f"ecdsa-{d}", O.ECDSA_BY_HASH[d], None)
    raise InvalidKey("not an RSA, EC or SM2 private key")


def _build_signer_info(
    plan: _Plan, digest_value: bytes, econtent_type: str, when: datetime
) -> bytes:
    attrs = der.set_of(
        [
            der.seq(der.oid(O.ATTR_CONTENT_TYPE), der.set_of([der.oid(econtent_type)])),
            der.seq(der.oid(O.ATTR_SIGNING_TIME), der.set_of([der.time(when)])),
            der.seq(der.oid(O.ATTR_MESSAGE_DIGEST), der.set_of([der.octets(digest_value)])),
        ]
    )
    if isinstance(plan.key, _PRIVATE_KEYS):
        signature = _sigs.sign(plan.key, plan.algorithm, data=attrs)
    else:
        signature = plan.key.sign(plan.algorithm, data=attrs, digest=None)
        # a token holding another key would otherwise produce a message nobody can verify
        if not _sigs.verify(plan.cert.public_key, plan.algorithm, signature, data=attrs):
            subject = plan.cert.subject.rfc4514
            raise InvalidKey(f"the external signer's key does not match {subject}")
    return der.seq(
        der.integer(1),
        der.seq(der.issuer_der(plan.cert.der), der.integer(plan.cert.serial_number)),
        der.algorithm(O.DIGEST_OIDS[plan.digest]),
        b"\xa0" + attrs[1:],  # [0] IMPLICIT SET OF Attribute
        der.algorithm(plan.signature_oid, plan.signature_params),
        der.octets(signature),
    )


def _new_hashes(names: Iterable[str]) -> dict[str, hashes.Hash]:
    return {n: hashes.Hash(HASHES[n]()) for n in names}


def _update(hs: dict[str, hashes.Hash], block: bytes) -> None:
    for h in hs.values():
        h.update(block)


def _finish(hs: dict[str, hashes.Hash]) -> dict[str, bytes]:
    return {n: h.finalize() for n, h in hs.items()}


@overload
def sign(
    content: Source,
    out: None,
    signers: Sequence[Signer],
    *,
    detached: bool = ...,
    digest: str | None = ...,
    signing_time: datetime | None = ...,
    gm_oids: bool | None = ...,
) -> bytes: ...


@overload
def sign(
    content: Source,
    out: Writable,
    signers: Sequence[Signer],
    *,
    detached: bool = ...,
    digest: str | None = ...,
    signing_time: datetime | None = ...,
    gm_oids: bool | None = ...,
) -> None: ...


def sign(
    content: Source,
    out: Writable | None,
    signers: Sequence[Signer],
    *,
    detached: bool = False,
    digest: str | None = None,
    signing_time: datetime | None = None,
    gm_oids: bool | None = None,
) -> bytes | None:
    """Sign ``content`` (bytes or a binary file) and write the SignedData to ``out`` (or return
    it as bytes when ``out`` is None).

    ``digest`` picks SHA-256 (default), SHA-384 or SHA-512 for RSA/ECDSA signers; SM2 signers
    always use SM3. ``gm_oids`` forces (True) or refuses (False) the GM/T 0010 content types;
    by default they are used when every signer is SM2.

    Content whose length is known (bytes, a seekable file) gives DER with definite lengths: a
    file is read twice, once to digest it and once to copy it. Other streams give BER with
    indefinite lengths and the content in 64 KiB OCTET STRING segments. Memory stays constant.
    """
    if not signers:
        raise MalformedInput("at least one signer is needed")
    if len(signers) > MAX_SIGNERS:
        raise MalformedInput(f"at most {MAX_SIGNERS} signers")
    plans = [_plan(s, digest) for s in signers]
    gm = all(p.family == "sm2" for p in plans) if gm_oids is None else bool(gm_oids)
    etype, outer = (O.GM_DATA, O.GM_SIGNED_DATA) if gm else (O.DATA, O.SIGNED_DATA)
    when = signing_time or datetime.now(UTC)
    names = list(dict.fromkeys(p.digest for p in plans))
    certs: dict[bytes, None] = {}
    for p in plans:
        for c in (p.cert, *p.extra):
            certs.setdefault(c.der)
    cert_body = b"".join(sorted(certs))
    sink: Writable = out if out is not None else io.BytesIO()
    head = der.integer(1) + der.set_of(der.algorithm(O.DIGEST_OIDS[n]) for n in names)

    def tail(digests: dict[str, bytes]) -> bytes:
        infos = [_build_signer_info(p, digests[p.digest], etype, when) for p in plans]
        return der.header(0xA0, len(cert_body)) + cert_body + der.set_of(infos)

    size = remaining_length(content)
    reader = as_reader(content)
    if detached or size is not None:
        data = bytes(content) if isinstance(content, bytes | bytearray | memoryview) else None
        f: Any = reader
        start = 0 if detached or data is not None else int(f.tell())
        hs = _new_hashes(names)
        n = 0
        if data is not None:
            _update(hs, data)
            n = len(data)
        else:
            for block in chunks(reader):
                _update(hs, block)
                n += len(block)
        rest = tail(_finish(hs))
        if detached:
            encap = der.seq(der.oid(etype))
            _write_definite(sink, outer, head + encap + rest)
        else:
            if data is None:
                f.seek(start)
            _write_attached(sink, outer, etype, head, rest, n, data, reader)
    else:
        _write_streamed(sink, outer, etype, head, names, reader, tail)
    return sink.getvalue() if out is None else None  # type: ignore[attr-defined]


def _write_definite(sink: Writable, outer: str, signed_data_body: bytes) -> None:
    sd = der.tlv(der.SEQUENCE, signed_data_body)
    sink.write(der.seq(der.oid(outer), der.explicit(0, sd)))


def _write_attached(
    sink: Writable,
    outer: str,
    etype: str,
    head: bytes,
    rest: bytes,
    n: int,
    data: bytes | None,
    reader: Readable,
) -> None:
    """DER with definite lengths around ``n`` content bytes copied from ``data`` or ``reader``."""
    octet_hdr = der.header(der.OCTET_STRING, n)
    econtent_hdr = der.header(0xA0, len(octet_hdr) + n)
    etype_oid = der.oid(etype)
    encap_len = len(etype_oid) + len(econtent_hdr) + len(octet_hdr) + n
    encap_hdr = der.header(der.SEQUENCE, encap_len)
    sd_len = len(head) + len(encap_hdr) + encap_len + len(rest)
    sd_hdr = der.header(der.SEQUENCE, sd_len)
    explicit_hdr = der.header(0xA0, len(sd_hdr) + sd_len)
    outer_oid = der.oid(outer)
    ci_hdr = der.header(der.SEQUENCE, len(outer_oid) + len(explicit_hdr) + len(sd_hdr) + sd_len)
    sink.write(ci_hdr + outer_oid + explicit_hdr + sd_hdr + head)
    sink.write(encap_hdr + etype_oid + econtent_hdr + octet_hdr)
    if data is not None:
        sink.write(data)
    else:
        copied = 0
        while copied < n:
            block = read_exactly(reader, min(CHUNK, n - copied))
            if not block:
                raise MalformedInput("the content got shorter while it was being signed")
            sink.write(block)
            copied += len(block)
    sink.write(rest)


def _write_streamed(
    sink: Writable,
    outer: str,
    etype: str,
    head: bytes,
    names: list[str],
    reader: Readable,
    tail: Callable[[dict[str, bytes]], bytes],
) -> None:
    """BER with indefinite lengths: the content goes out segment by segment as it is read."""
    sink.write(b"\x30\x80" + der.oid(outer) + b"\xa0\x80\x30\x80" + head)
    sink.write(b"\x30\x80" + der.oid(etype) + b"\xa0\x80\x24\x80")
    hs = _new_hashes(names)
    for block in chunks(reader):
        _update(hs, block)
        sink.write(der.header(der.OCTET_STRING, len(block)))
        sink.write(block)
    sink.write(der.EOC * 3)
    sink.write(tail(_finish(hs)))
    sink.write(der.EOC * 3)


# ---------------------------------------------------------------------------------------------
# verifying


@dataclass
class _Parsed:
    outer_type: str
    econtent_type: str
    version: int
    announced: list[str]
    """Known digest names of digestAlgorithms."""
    attached: bool
    content_mark: Mark | None
    certificates: list[Certificate]
    skipped: int
    signer_infos: list[Any]


def _digest_names(raw: bytes) -> list[str]:
    names: list[str] = []
    for child in children(raw, 32):
        r = BerReader(io.BytesIO(child))
        r.enter(r.header())
        name = O.DIGESTS.get(read_oid(r))
        if name is not None and name not in names:
            names.append(name)
    return names


def verify(
    cms: Source,
    *,
    content: Source | None = None,
    out: Writable | None = None,
    certificates: Sequence[Certificate] = (),
) -> SignedDataResult:
    """Verify every signer of a SignedData (DER, BER or PEM; standard or GM/T 0010 OIDs).

    ``content``: the signed content of a detached signature (bytes or a binary file).
    ``out``: receives the encapsulated content of an attached signature as it is read (before
    the verdict: discard it if the result is invalid). ``certificates``: signer certificates
    the message does not carry.
    """
    src, rewindable = open_input(cms)
    r = BerReader(src, rewindable=rewindable)
    hs_attached: dict[DigestKey, hashes.Hash] = {}
    counter = [0]
    p = _parse(r, hs_attached, out, counter)
    if p.attached and content is not None:
        raise MalformedInput("the message carries its content: do not pass content as well")
    if not p.attached and content is None:
        raise MalformedInput("a detached signature: pass the signed content")
    pool = [*p.certificates, *(c for c in certificates if isinstance(c, Certificate))]
    signers = [signer_info.load(raw) for raw in p.signer_infos]
    needed: set[DigestKey] = {(n, b"") for n in p.announced}
    for s in signers:
        needed |= signer_info.needs(s, pool)
    if not p.attached:
        assert content is not None
        hs = {k: _hash_with_prefix(k) for k in needed}
        n = 0
        for block in chunks(as_reader(content)):
            for h in hs.values():
                h.update(block)
            n += len(block)
        digests = {k: h.finalize() for k, h in hs.items()}
        length = n
    else:
        digests = {k: h.finalize() for k, h in hs_attached.items()}
        length = counter[0]
        missing = needed - digests.keys()
        if missing and r.rewindable and p.content_mark is not None:
            hs = {k: _hash_with_prefix(k) for k in missing}
            r.rewind(p.content_mark)
            for block in r.octets(r.header()):
                for h in hs.values():
                    h.update(block)
            digests.update({k: h.finalize() for k, h in hs.items()})
    results = tuple(signer_info.evaluate(s, pool, p.econtent_type, digests) for s in signers)
    gm = p.outer_type == O.GM_SIGNED_DATA or p.econtent_type == O.GM_DATA
    return SignedDataResult(
        valid=bool(results) and all(x.valid for x in results),
        signers=results,
        certificates=tuple(p.certificates),
        content_type=p.econtent_type,
        gm=gm,
        detached=not p.attached,
        content_length=length,
        skipped_certificates=p.skipped,
    )


def _hash_with_prefix(k: DigestKey) -> hashes.Hash:
    h = hashes.Hash(HASHES[k[0]]())
    if k[1]:
        h.update(k[1])
    return h


def _parse(
    r: BerReader, hs: dict[DigestKey, hashes.Hash], out: Writable | None, counter: list[int]
) -> _Parsed:
    outer, frames = enter_content_info(r, O.SIGNED_TYPES, "SignedData")
    version = read_int(r)
    h = r.header()
    if not h.is_(UNIVERSAL, 17, True):
        raise MalformedInput("digestAlgorithms is not a SET")
    announced = guard("digestAlgorithms", lambda: _digest_names(r.element(MAX_SMALL, h)))
    h = r.header()
    if not h.is_(UNIVERSAL, 16, True):
        raise MalformedInput("encapContentInfo is not a SEQUENCE")
    f3 = r.enter(h)
    etype = read_oid(r)
    attached = False
    mark: Mark | None = None
    if r.more(f3):
        h = r.header()
        if not h.is_(CONTEXT, 0, True):
            raise MalformedInput("eContent is not [0]")
        f4 = r.enter(h)
        mark = r.mark()
        h = r.header()
        if not h.is_(UNIVERSAL, 4):
            raise UnsupportedAlgorithm("encapsulated content that is not an OCTET STRING")
        for name in announced:
            hs[(name, b"")] = hashes.Hash(HASHES[name]())
        updates = [x.update for x in hs.values()]
        n = 0
        for block in r.octets(h):
            for update in updates:
                update(block)
            if out is not None:
                out.write(block)
            n += len(block)
        counter[0] = n
        if r.more(f4):
            raise MalformedInput("more than one value in eContent")
        r.leave(f4)
        attached = True
    if r.more(f3):
        raise MalformedInput("unexpected data in encapContentInfo")
    r.leave(f3)
    certs: list[Certificate] = []
    skipped = 0
    h = r.header()
    if h.is_(CONTEXT, 0, True):
        raw = r.element(MAX_CERTIFICATES, h)
        for child in guard("certificates", lambda: children(raw, 1000)):
            if child[:1] != b"\x30":
                skipped += 1  # attribute certificates and other choices
                continue
            try:
                certs.append(parse_certificate(child))
            except CertInteropError:
                skipped += 1
        h = r.header()
    if h.is_(CONTEXT, 1, True):
        r.element(MAX_CERTIFICATES, h)  # CRLs: not used by verify
        h = r.header()
    if not h.is_(UNIVERSAL, 17, True):
        raise MalformedInput("signerInfos is not a SET")
    infos = guard("signerInfos", lambda: children(r.element(MAX_SIGNER_INFOS, h), MAX_SIGNERS))
    leave_content_info(r, frames, "SignedData")
    return _Parsed(outer, etype, version, announced, attached, mark, certs, skipped, infos)
