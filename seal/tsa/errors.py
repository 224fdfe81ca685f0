"""Typed errors of the time-stamp authority and its client: ``SealError`` subclasses.

The TSA itself never raises for a request (it answers a rejection); these are for building
it with a wrong certificate or key, and for the client's side: an unreachable TSA, a refusal,
or a token that does not prove what it should.
"""

from __future__ import annotations

from seal.errors import SealError

__all__ = [
    "MalformedTimestamp",
    "TimestampImprintMismatch",
    "TimestampInvalid",
    "TimestampNonceMismatch",
    "TimestampPolicyMismatch",
    "TimestampRejected",
    "TimestampSignatureInvalid",
    "TimestampUnavailable",
    "TsaCertificateRejected",
    "TsaError",
    "TsaMisconfigured",
    "TsaNotConfigured",
    "UnsupportedTimestampAlgorithm",
]


class TsaError(SealError):
    code = "tsa_error"
    message_zh = "时间戳服务操作失败"


class TsaMisconfigured(TsaError):
    """The TSA cannot be built: its certificate is not a TSA certificate (extendedKeyUsage
    id-kp-timeStamping, critical), the key does not match it, or a setting is invalid."""

    code = "tsa_misconfigured"
    message_zh = "时间戳服务配置错误"


class TsaNotConfigured(TsaError):
    """A B-T/B-LT stamp was asked for, but neither an external TSA nor the service's own
    time-stamp key is configured."""

    code = "tsa_not_configured"
    message_zh = "未配置时间戳服务（HUREN_TSA_URL 或 HUREN_TSA_KEY），不能加盖 B-T/B-LT 签章"


class UnsupportedTimestampAlgorithm(TsaError):
    """A hash the client side does not ask for or check (not SHA-256/384/512 or SM3)."""

    code = "timestamp_algorithm_unsupported"
    message_zh = "不支持的时间戳摘要算法"


class TimestampUnavailable(TsaError):
    """The TSA could not be reached or did not answer with a time-stamp reply."""

    code = "timestamp_unavailable"
    message_zh = "无法从时间戳服务获得应答"


class TimestampRejected(TsaError):
    """The TSA answered, and refused: ``status`` and ``fail_info`` are RFC 3161's names."""

    code = "timestamp_rejected"
    message_zh = "时间戳服务拒绝了请求"

    def __init__(self, message: str, *, status: str, fail_info: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.fail_info = fail_info


class MalformedTimestamp(TsaError):
    """A time-stamp reply or token that does not parse as RFC 3161 says."""

    code = "malformed_timestamp"
    message_zh = "时间戳数据格式错误"


class TimestampInvalid(TsaError):
    """A token that parses but does not prove what it should; subclasses say which part."""

    code = "timestamp_invalid"
    message_zh = "时间戳无效"


class TimestampImprintMismatch(TimestampInvalid):
    code = "timestamp_imprint_mismatch"
    message_zh = "时间戳所盖的摘要与数据不符"


class TimestampNonceMismatch(TimestampInvalid):
    code = "timestamp_nonce_mismatch"
    message_zh = "时间戳应答中的随机数与请求不符"


class TimestampPolicyMismatch(TimestampInvalid):
    code = "timestamp_policy_mismatch"
    message_zh = "时间戳策略与要求不符"


class TimestampSignatureInvalid(TimestampInvalid):
    code = "timestamp_signature_invalid"
    message_zh = "时间戳签名无效"


class TsaCertificateRejected(TimestampInvalid):
    """The signer's certificate is missing, is not a TSA certificate, is not the one the
    signed ESS attribute names, or was not valid at the stamped time."""

    code = "tsa_certificate_rejected"
    message_zh = "时间戳服务证书不可用"
