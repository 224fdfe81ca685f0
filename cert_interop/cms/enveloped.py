"""CMS EnvelopedData (RFC 5652), AuthEnvelopedData with AES-GCM (RFC 5083/5084) and the GM/T 0010
envelopedData: encrypt to one or more certificates, decrypt with a key or an ``unwrap`` callable.

The content is encrypted once with a random content-encryption key (CEK); each recipient gets the
CEK through its own RecipientInfo (:mod:`cert_interop.cms.recipients`). SM2-only envelopes use
SM4-CBC and the GM/T 0010 content types by default, as Chinese CA toolchains expect; others use
AES-256-CBC (AES-256-GCM on request, written as AuthEnvelopedData like ``openssl cms``).

Both directions stream with constant memory: definite lengths when the content's length is known
(bytes, a seekable file), BER indefinite lengths with 64 KiB segments otherwise. Decryption
writes plaintext to ``out`` as it goes; a wrong key or tampering (bad padding, bad GCM tag) is
only known at the end, so discard ``out`` when ``decrypt`` raises.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import overload

from cert_interop import sm2
from cert_interop.cms import der
from cert_interop.cms import oids as O
from cert_interop.cms.ber import (
    CONTEXT,
    UNIVERSAL,
    BerReader,
    children,
    guard,
    read_int,
    read_oid,
)
from cert_interop.cms.ciphers import (
    CIPHER_NAMES,
    ContentDecryptor,
    ContentEncryptor,
    ciphertext_length,
)
from cert_interop.cms.content_info import enter_content_info, leave_content_info
from cert_interop.cms.recipients import Unwrap, recipient_info, recover_key
from cert_interop.cms.status import DecryptResult
from cert_interop.cms.streams import (
    CHUNK,
    Source,
    Writable,
    as_reader,
    chunks,
    open_input,
    read_exactly,
    remaining_length,
)
from cert_interop.errors import DecryptionFailed, MalformedInput, UnsupportedAlgorithm
from cert_interop.keys import PrivateKey, dump_public_key
from cert_interop.x509 import Certificate

__all__ = ["decrypt", "encrypt"]

MAX_RECIPIENTS = 1000
MAX_RECIPIENT_INFOS = 4 << 20
MAX_SMALL = 64 << 10
MAX_ORIGINATOR_INFO = 8 << 20


@overload
def encrypt(
    content: Source,
    out: None,
    recipients: Sequence[Certificate],
    *,
    cipher: str | None = ...,
    rsa_padding: str = ...,
    gm_oids: bool | None = ...,
    check_key_usage: bool = ...,
) -> bytes: ...


@overload
def encrypt(
    content: Source,
    out: Writable,
    recipients: Sequence[Certificate],
    *,
    cipher: str | None = ...,
    rsa_padding: str = ...,
    gm_oids: bool | None = ...,
    check_key_usage: bool = ...,
) -> None: ...


def encrypt(
    content: Source,
    out: Writable | None,
    recipients: Sequence[Certificate],
    *,
    cipher: str | None = None,
    rsa_padding: str = "oaep",
    gm_oids: bool | None = None,
    check_key_usage: bool = True,
) -> bytes | None:
    """Encrypt ``content`` to every certificate of ``recipients``; write the envelope to ``out``
    (or return it when ``out`` is None).

    ``cipher``: ``aes-256-cbc``, ``aes-256-gcm`` or ``sm4-cbc`` (default: ``sm4-cbc`` when a
    recipient has an SM2 key, else ``aes-256-cbc``). ``rsa_padding``: ``oaep`` (SHA-256) or
    ``pkcs1v15`` for RSA recipients. ``gm_oids``: GM/T 0010 content types (default: when every
    recipient is SM2). ``check_key_usage``: refuse certificates whose key usage does not allow
    key encipherment (key agreement for EC), e.g. an SM2 signing certificate.
    """
    if not recipients:
        raise MalformedInput("at least one recipient certificate is needed")
    if len(recipients) > MAX_RECIPIENTS:
        raise MalformedInput(f"at most {MAX_RECIPIENTS} recipients")
    if not all(isinstance(c, Certificate) for c in recipients):
        raise MalformedInput("recipients must be parsed Certificate objects")
    any_sm2 = any(isinstance(c.public_key, sm2.Sm2PublicKey) for c in recipients)
    name = cipher or ("sm4-cbc" if any_sm2 else "aes-256-cbc")
    if name not in CIPHER_NAMES:
        raise UnsupportedAlgorithm(f"cipher {name!r} is not one of {', '.join(CIPHER_NAMES)}")
    gcm = name.endswith("-gcm")
    all_sm2 = all(isinstance(c.public_key, sm2.Sm2PublicKey) for c in recipients)
    gm = (all_sm2 and not gcm) if gm_oids is None else bool(gm_oids)
    if gm and gcm:
        raise UnsupportedAlgorithm("AES-GCM (AuthEnvelopedData) has no GM/T 0010 form")
    cek = os.urandom(O.CIPHERS[O.CIPHER_OIDS[name]][1])
    infos = [
        recipient_info(c, cek, rsa_padding=rsa_padding, check_key_usage=check_key_usage)
        for c in recipients
    ]
    enc = ContentEncryptor(name, cek)
    if gcm:
        outer, version = O.AUTH_ENVELOPED_DATA, 0
    else:
        outer = O.GM_ENVELOPED_DATA if gm else O.ENVELOPED_DATA
        version = 0 if all(i[:1] == b"\x30" for i in infos) else 2  # kari is version 3
    head = der.integer(version) + der.set_of(infos)
    eci_head = der.oid(O.GM_DATA if gm else O.DATA) + enc.algorithm_identifier()
    sink: Writable = out if out is not None else io.BytesIO()
    size = remaining_length(content)
    reader = as_reader(content)
    mac_size = 2 + 16 if gcm else 0
    if size is not None:
        ct_len = ciphertext_length(name, size)
        ec_hdr = der.header(0x80, ct_len)  # [0] IMPLICIT OCTET STRING, primitive
        eci_len = len(eci_head) + len(ec_hdr) + ct_len
        eci_hdr = der.header(der.SEQUENCE, eci_len)
        ed_len = len(head) + len(eci_hdr) + eci_len + mac_size
        ed_hdr = der.header(der.SEQUENCE, ed_len)
        x_hdr = der.header(0xA0, len(ed_hdr) + ed_len)
        outer_oid = der.oid(outer)
        ci_hdr = der.header(der.SEQUENCE, len(outer_oid) + len(x_hdr) + len(ed_hdr) + ed_len)
        sink.write(ci_hdr + outer_oid + x_hdr + ed_hdr + head + eci_hdr + eci_head + ec_hdr)
        written = 0
        left = size
        while left:
            block = read_exactly(reader, min(CHUNK, left))
            if not block:
                raise MalformedInput("the content got shorter while it was being encrypted")
            left -= len(block)
            piece = enc.update(block)
            written += len(piece)
            sink.write(piece)
        piece = enc.finalize()
        written += len(piece)
        sink.write(piece)
        if written != ct_len:  # pragma: no cover - arithmetic guard
            raise MalformedInput("internal: ciphertext length differs from the one announced")
        if gcm:
            sink.write(der.octets(enc.tag))
    else:
        sink.write(b"\x30\x80" + der.oid(outer) + b"\xa0\x80\x30\x80" + head)
        sink.write(b"\x30\x80" + eci_head + b"\xa0\x80")
        for block in chunks(reader):
            piece = enc.update(block)
            if piece:
                sink.write(der.header(der.OCTET_STRING, len(piece)) + piece)
        piece = enc.finalize()
        if piece:
            sink.write(der.header(der.OCTET_STRING, len(piece)) + piece)
        sink.write(der.EOC * 2)  # encryptedContent, EncryptedContentInfo
        if gcm:
            sink.write(der.octets(enc.tag))
        sink.write(der.EOC * 3)
    return sink.getvalue() if out is None else None  # type: ignore[attr-defined]


def _algorithm(raw: bytes) -> tuple[str, bytes | None]:
    """(OID, DER of the parameters or None) of an AlgorithmIdentifier."""
    r = BerReader(io.BytesIO(raw))
    f = r.enter(r.header())
    oid = read_oid(r)
    params = r.element(MAX_SMALL) if r.more(f) else None
    if params == der.NULL_TLV:
        params = None
    if r.more(f):
        raise MalformedInput("unexpected data in an AlgorithmIdentifier")
    return oid, params


def decrypt(
    cms: Source,
    out: Writable | None = None,
    *,
    certificate: Certificate,
    key: PrivateKey | None = None,
    unwrap: Unwrap | None = None,
) -> DecryptResult:
    """Decrypt an EnvelopedData / AuthEnvelopedData (DER, BER or PEM) addressed to
    ``certificate``, with its private ``key`` or an ``unwrap`` callable (see
    :mod:`cert_interop.cms.recipients`). Plaintext goes to ``out`` (or into the result).

    Not addressed to ``certificate`` → ``NotARecipient``; wrong key, tampered ciphertext or tag →
    ``DecryptionFailed``; unparseable input → ``MalformedInput``.
    """
    if (key is None) == (unwrap is None):
        raise MalformedInput("give exactly one of key and unwrap")
    if not isinstance(certificate, Certificate):
        raise MalformedInput("certificate must be a parsed Certificate")
    if key is not None and dump_public_key(key.public_key(), "der") != dump_public_key(
        certificate.public_key, "der"
    ):
        raise DecryptionFailed("the private key does not belong to the certificate")
    src, _ = open_input(cms)
    r = BerReader(src)
    outer, frames = enter_content_info(
        r, {O.AUTH_ENVELOPED_DATA, *O.ENVELOPED_TYPES}, "EnvelopedData"
    )
    f2 = frames[2]
    auth = outer == O.AUTH_ENVELOPED_DATA
    read_int(r)  # version: every version is read the same way
    h = r.header()
    if h.is_(CONTEXT, 0, True):
        r.element(MAX_ORIGINATOR_INFO, h)  # originatorInfo: not needed to decrypt
        h = r.header()
    if not h.is_(UNIVERSAL, 17, True):
        raise MalformedInput("recipientInfos is not a SET")
    raw_infos = r.element(MAX_RECIPIENT_INFOS, h)
    infos = guard("recipientInfos", lambda: children(raw_infos, MAX_RECIPIENTS))
    h = r.header()
    if not h.is_(UNIVERSAL, 16, True):
        raise MalformedInput("EncryptedContentInfo is not a SEQUENCE")
    f3 = r.enter(h)
    content_type = read_oid(r)
    h = r.header()
    if not h.is_(UNIVERSAL, 16, True):
        raise MalformedInput("contentEncryptionAlgorithm is not a SEQUENCE")
    cipher_oid, params = guard(
        "contentEncryptionAlgorithm", lambda: _algorithm(r.element(MAX_SMALL, h))
    )
    if auth != (O.CIPHERS.get(cipher_oid, ("", 0, ""))[2] == "gcm"):
        raise MalformedInput("AES-GCM belongs in AuthEnvelopedData, CBC in EnvelopedData")
    key_length = ContentDecryptor.key_length(cipher_oid)
    got = guard("recipientInfos", lambda: recover_key(infos, certificate, key, unwrap, key_length))
    dec = ContentDecryptor(cipher_oid, params, got.key)
    sink: Writable = out if out is not None else io.BytesIO()
    if not r.more(f3):
        raise MalformedInput("the envelope carries no encrypted content (detached)")
    h = r.header()
    if not h.is_(CONTEXT, 0):
        raise MalformedInput("encryptedContent is not [0]")
    n = 0
    for block in r.octets(h):
        piece = dec.update(block)
        if piece:
            sink.write(piece)
            n += len(piece)
    if r.more(f3):
        raise MalformedInput("unexpected data in EncryptedContentInfo")
    r.leave(f3)
    mac: bytes | None = None
    if auth:
        h = r.header()
        if h.is_(CONTEXT, 1, True):
            raise UnsupportedAlgorithm("AuthEnvelopedData with authenticated attributes")
        if not h.is_(UNIVERSAL, 4, False):
            raise MalformedInput("AuthEnvelopedData without mac")
        mac = r.primitive(h, 64)
    if r.more(f2):
        h = r.header()
        if not h.is_(CONTEXT, 2 if auth else 1, True):
            raise MalformedInput("unexpected data at the end of EnvelopedData")
        r.element(MAX_SMALL, h)  # unprotected / unauthenticated attributes
    leave_content_info(r, frames, "EnvelopedData")
    last = dec.finalize(mac)
    if last:
        sink.write(last)
        n += len(last)
    return DecryptResult(
        content=sink.getvalue() if out is None else None,  # type: ignore[attr-defined]
        content_length=n,
        content_type=content_type,
        cipher=dec.name,
        key_encryption=got.algorithm,
        recipients=len(infos),
        gm=outer == O.GM_ENVELOPED_DATA or content_type == O.GM_DATA,
        authenticated=auth,
    )
