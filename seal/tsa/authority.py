"""The platform's RFC 3161 Time-Stamp Authority: DER request in, DER TimeStampResp out.

``respond`` answers every input with a TimeStampResp: a token for a good request, a rejection
with a PKIFailureInfo otherwise, and systemFailure when the key or the clock fails. It never
raises, so the HTTP face is a few lines and a fuzzer finds nothing to crash.

The key is a private key object or a ``cert_interop.cms.ExternalSigner`` (an HSM or PKCS#11
key through ``config.token_adapters``), so the private key never has to leave its token.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from asn1crypto import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cert_interop import signatures, sm2
from cert_interop.cms import ExternalSigner, SigningKey
from cert_interop.errors import CertInteropError
from cert_interop.keys import PrivateKey, dump_public_key
from cert_interop.x509 import Certificate
from seal.tsa import oids
from seal.tsa.errors import TsaMisconfigured
from seal.tsa.request import Refusal, TimestampRequest, parse_request
from seal.tsa.response import granted, rejection
from seal.tsa.token import TstFields, build_token, profile_for

__all__ = [
    "Clock",
    "SerialSource",
    "TimeStampAuthority",
    "check_tsa_certificate",
    "random_serial",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SerialSource = Callable[[], int]


def random_serial() -> int:
    """A random positive serial of at most 20 bytes (RFC 3161 allows up to 160 bits).

    159 random bits make serials unique without shared state between workers or machines: the
    chance that any two of 2**40 tokens collide is about 2**-80, far below a hardware fault.
    """
    return secrets.randbits(159) or 1


def _utc_now() -> datetime:
    return datetime.now(UTC)


def check_tsa_certificate(cert: Certificate) -> None:
    """RFC 3161 §2.3: extendedKeyUsage with the sole purpose id-kp-timeStamping, critical
    (OpenSSL and pyhanko refuse anything else); key usage, if present, allows signing."""
    subject = cert.subject.rfc4514
    ext = cert.extension(oids.EXTENDED_KEY_USAGE)
    if ext is None or cert.extended_key_usage is None:
        raise TsaMisconfigured(
            f"{subject} has no extendedKeyUsage: a TSA certificate needs id-kp-timeStamping",
            zh="时间戳服务证书缺少扩展密钥用法 id-kp-timeStamping",
        )
    if cert.extended_key_usage != (oids.KP_TIME_STAMPING,):
        raise TsaMisconfigured(
            f"{subject}: extendedKeyUsage must be id-kp-timeStamping only, "
            f"not {', '.join(cert.extended_key_usage)}",
            zh="时间戳服务证书的扩展密钥用法只能是 id-kp-timeStamping",
        )
    if not ext.critical:
        raise TsaMisconfigured(
            f"{subject}: the extendedKeyUsage extension must be critical",
            zh="时间戳服务证书的扩展密钥用法必须为关键扩展",
        )
    usage = cert.key_usage
    if usage is not None and not usage & {"digital_signature", "non_repudiation"}:
        raise TsaMisconfigured(
            f"{subject}: key usage does not allow signatures",
            zh="时间戳服务证书的密钥用法不允许签名",
        )


_SYSTEM_FAILURE = rejection("system_failure", "the time-stamp authority failed")


class TimeStampAuthority:
    """Issues time-stamp tokens with one key and certificate under one policy."""

    def __init__(
        self,
        signer: SigningKey,
        certificate: Certificate,
        *,
        chain: Sequence[Certificate] = (),
        policy: str = oids.DEFAULT_POLICY,
        accuracy: timedelta | None = timedelta(seconds=1),
        clock: Clock = _utc_now,
        serial_source: SerialSource = random_serial,
        signing_time: bool = True,
    ) -> None:
        """``chain``: certificates sent after the TSA's own when a request asks for them (its
        issuing CAs). ``accuracy=None`` leaves Accuracy out; below a second, genTime carries
        fractions. ``signing_time`` adds the (optional) signingTime attribute."""
        if not isinstance(certificate, Certificate) or not all(
            isinstance(c, Certificate) for c in chain
        ):
            raise TsaMisconfigured("certificates must be parsed cert_interop Certificates")
        check_tsa_certificate(certificate)
        if not isinstance(policy, str) or not _OID.fullmatch(policy):
            raise TsaMisconfigured(f"policy {policy!r} is not a dotted OID")
        if accuracy is not None and accuracy <= timedelta(0):
            raise TsaMisconfigured("accuracy must be positive (or None to leave it out)")
        self.certificate = certificate
        self.chain = tuple(c for c in chain if c.der != certificate.der)
        self.policy = policy
        self.accuracy = accuracy
        self.signing_time = signing_time
        self._clock = clock
        self._serial = serial_source
        self._profile = profile_for(certificate.key_algorithm)
        self._key = signer
        self._external = _check_key(signer, certificate)
        self._tsa_name = x509.Certificate.load(certificate.der).subject

    @property
    def signature_algorithm(self) -> str:
        """``rsa-pkcs1-sha256``, ``ecdsa-sha256`` or ``sm2-sm3``."""
        return self._profile.algorithm

    def respond(self, request_der: bytes) -> bytes:
        """A DER TimeStampResp for any input; never raises."""
        try:
            parsed = parse_request(request_der, self.policy)
            if isinstance(parsed, Refusal):
                log.info("timestamp request refused: %s (%s)", parsed.fail_info, parsed.text)
                return rejection(parsed.fail_info, parsed.text)
            return self._grant(parsed)
        except Exception:
            log.exception("the time-stamp authority failed")
            return _SYSTEM_FAILURE

    def _grant(self, req: TimestampRequest) -> bytes:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must give timezone-aware times")
        now = now.astimezone(UTC)
        if self.accuracy is None or self.accuracy >= timedelta(seconds=1):
            now = now.replace(microsecond=0)
        cert = self.certificate
        if not cert.not_before <= now <= cert.not_after:
            log.error("the TSA certificate %s is not valid now", cert.subject.rfc4514)
            return _SYSTEM_FAILURE
        serial = self._serial()
        if not 0 < serial < 1 << 159:
            raise ValueError("the serial source gave a serial outside 1 .. 2**159 - 1")
        fields = TstFields(
            policy=self.policy,
            imprint=req.imprint,
            serial=serial,
            gen_time=now,
            accuracy=self.accuracy,
            nonce=req.nonce,
            tsa_name=self._tsa_name,
        )
        token = build_token(
            fields,
            certificate=cert,
            profile=self._profile,
            sign=self._sign,
            certificates=(cert, *self.chain) if req.cert_req else (),
            signing_time=self.signing_time,
        )
        return granted(token)

    def _sign(self, data: bytes) -> bytes:
        algorithm = self._profile.algorithm
        if not self._external:
            key: PrivateKey = self._key  # type: ignore[assignment]
            return signatures.sign(key, algorithm, data=data)
        external: ExternalSigner = self._key  # type: ignore[assignment]
        signature = external.sign(algorithm, data=data, digest=None)
        # a token swapped for another would otherwise give tokens nobody can verify
        if not signatures.verify(self.certificate.public_key, algorithm, signature, data=data):
            raise ValueError("the external signer's key does not match the TSA certificate")
        return signature


_OID = re.compile(r"[012](\.(0|[1-9][0-9]*))+")
_PRIVATE = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, sm2.Sm2PrivateKey)


def _check_key(signer: object, cert: Certificate) -> bool:
    """True for an external signer; a private key must be the certificate's."""
    if isinstance(signer, _PRIVATE):
        try:
            same = dump_public_key(signer.public_key(), "der") == dump_public_key(
                cert.public_key, "der"
            )
        except CertInteropError:
            same = False
        if not same:
            raise TsaMisconfigured(
                f"the key does not belong to {cert.subject.rfc4514}",
                zh="时间戳服务私钥与证书不匹配",
            )
        return False
    if not callable(getattr(signer, "sign", None)):
        raise TsaMisconfigured("the signer must be a private key or have sign(algorithm, ...)")
    return True
