"""The platform's RFC 3161 Time-Stamp Authority and a client for it (issue 6: PAdES B-T).

    authority = TimeStampAuthority(key, tsa_cert, chain=[ca_cert])   # or an ExternalSigner
    reply = authority.respond(request_der)                           # never raises
    token = request_timestamp(url, digest, "sm3")                    # checked TimestampToken
    info = verify_token(token.der, digest, "sm3")                    # TimestampInfo

Modules: :mod:`.authority` (the TSA), :mod:`.request` (reading queries), :mod:`.token`
(building tokens), :mod:`.response` (TimeStampResp both ways), :mod:`.verify` (checking
tokens), :mod:`.client` (HTTP client), :mod:`.settings`, :mod:`.web` (Flask blueprint),
:mod:`.oids`, :mod:`.errors`.
"""

from __future__ import annotations

from seal.tsa.authority import TimeStampAuthority, check_tsa_certificate, random_serial
from seal.tsa.client import TimestampToken, build_request, request_timestamp
from seal.tsa.errors import (
    MalformedTimestamp,
    TimestampImprintMismatch,
    TimestampInvalid,
    TimestampNonceMismatch,
    TimestampPolicyMismatch,
    TimestampRejected,
    TimestampSignatureInvalid,
    TimestampUnavailable,
    TsaCertificateRejected,
    TsaError,
    TsaMisconfigured,
    UnsupportedTimestampAlgorithm,
)
from seal.tsa.oids import DEFAULT_POLICY
from seal.tsa.response import ParsedResponse, parse_response
from seal.tsa.settings import TsaSettings
from seal.tsa.verify import TimestampInfo, verify_token

__all__ = [
    "DEFAULT_POLICY",
    "MalformedTimestamp",
    "ParsedResponse",
    "TimeStampAuthority",
    "TimestampImprintMismatch",
    "TimestampInfo",
    "TimestampInvalid",
    "TimestampNonceMismatch",
    "TimestampPolicyMismatch",
    "TimestampRejected",
    "TimestampSignatureInvalid",
    "TimestampToken",
    "TimestampUnavailable",
    "TsaCertificateRejected",
    "TsaError",
    "TsaMisconfigured",
    "TsaSettings",
    "UnsupportedTimestampAlgorithm",
    "build_request",
    "check_tsa_certificate",
    "parse_response",
    "random_serial",
    "request_timestamp",
    "verify_token",
]
