"""CMS (RFC 5652) and GM/T 0010 messages: SignedData and EnvelopedData, streamed.

    from cert_interop import cms
    signed = cms.sign(data, None, [(key, cert, chain)])          # bytes in, bytes out
    result = cms.verify(signed)                                   # SignedDataResult
    with open("bid.zip", "rb") as src, open("bid.p7m", "wb") as dst:
        cms.encrypt(src, dst, [recipient_cert])                   # constant memory
    cms.decrypt(envelope, out, certificate=cert, key=key)         # or unwrap=token.unwrap

Modules: :mod:`~cert_interop.cms.signed` and :mod:`~cert_interop.cms.enveloped` (the two
operations), :mod:`~cert_interop.cms.signer_info` (one signer's verdict),
:mod:`~cert_interop.cms.recipients` (key transport / agreement),
:mod:`~cert_interop.cms.ciphers` (content encryption), :mod:`~cert_interop.cms.ber` (the
streaming reader), :mod:`~cert_interop.cms.der` (encoders), :mod:`~cert_interop.cms.streams`
(bytes, files, PEM), :mod:`~cert_interop.cms.oids`, :mod:`~cert_interop.cms.status` (results).
"""

from __future__ import annotations

from cert_interop.cms.ciphers import CIPHER_NAMES
from cert_interop.cms.enveloped import decrypt, encrypt
from cert_interop.cms.recipients import RSA_PADDINGS, Unwrap
from cert_interop.cms.signed import SIGN_DIGESTS, ExternalSigner, Signer, SigningKey, sign, verify
from cert_interop.cms.status import DecryptResult, SignedDataResult, SignerReason, SignerResult
from cert_interop.cms.streams import PemReader, PemWriter

__all__ = [
    "CIPHER_NAMES",
    "RSA_PADDINGS",
    "SIGN_DIGESTS",
    "DecryptResult",
    "ExternalSigner",
    "PemReader",
    "PemWriter",
    "SignedDataResult",
    "Signer",
    "SignerReason",
    "SignerResult",
    "SigningKey",
    "Unwrap",
    "decrypt",
    "encrypt",
    "sign",
    "verify",
]
