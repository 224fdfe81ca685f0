"""One `Settings` for the whole service: `HUREN_*` environment variables over an optional TOML file.

Invalid settings raise `SettingsError` with one line that names the variable, so start-up can stop
with that line instead of a traceback.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line meant for the operator."""


SECRET_FILE = "secret.key"


TOOL_VARIABLES = frozenset({"HUREN_CONFIG", "HUREN_PKCS11_MODULES", "HUREN_BRIDGE_ORIGINS"})
"""Variables read by the command-line tools themselves (the PKCS#11 module list, the bridge's
allowed origins), not settings: the service ignores them instead of refusing to start."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    ca_profiles_dir: Path
    """CA identity profile files (``*.toml``/``*.json``) read by the trust store."""
    issuer: str
    database_url: str
    redis_url: str | None
    redis_prefix: str
    host: str
    port: int
    secret_key: bytes = field(repr=False)
    code_ttl: int = 60
    access_token_ttl: int = 600
    id_token_ttl: int = 600
    refresh_token_ttl: int = 30 * 24 * 3600
    session_ttl: int = 8 * 3600
    login_max_failures: int = 5
    login_ip_max_failures: int = 30
    login_window: int = 900
    login_lockout: int = 900
    trusted_proxies: int = 0
    backchannel_max_attempts: int = 8
    max_request_bytes: int = 64 * 1024
    api_max_request_bytes: int = 16 * 1024 * 1024
    """Body limit of the integrator API (/api/v1): envelopes travel base64 in JSON."""
    default_locale: str = "zh"
    cookie_secure: bool = False
    revocation_online: bool = True
    """Ask the CRL distribution points and OCSP responders named in certificates."""
    revocation_timeout: int = 5
    """Seconds allowed to one CRL download or OCSP exchange."""
    platform_keys: tuple[tuple[str, str], ...] = ()
    """(name, token URI) of the keys the service holds for the platform (e.g. the bid-opening
    key): ``name=URI`` pairs separated by spaces, or a TOML table."""
    environment: str = "production"
    """``production`` or ``development``: development sends SMS to the log and the developer
    page /dev/sms when no gateway is configured; production never does."""
    sms_gateway_url: str | None = None
    """The SMS gateway (docs/sms-gateway.md); without it production offers no registration."""
    sms_gateway_token: str | None = field(default=None, repr=False)
    registry_url: str | None = None
    """The market-entity registry (docs/registry-protocol.md); without it every organisation
    waits for an operator's review."""
    registry_token: str | None = field(default=None, repr=False)
    registry_timeout: int = 5
    register_ip_limit: int = 10
    """Registrations allowed from one client address per `register_ip_window` seconds."""
    register_ip_window: int = 3600
    bridge_port: int = 21800
    """Port of the bidders' local bridge (`huren bridge serve --port`, drivers.bridge): the
    provider's pages may connect to it (CSP connect-src) and certificate login calls it."""
    qr_ticket_ttl: int = 120
    """Seconds a login page's QR code (its ticket) can be scanned, confirmed and completed in."""
    seal_maker: str | None = None
    """Name of the platform key (in `platform_keys`) of the seal-making authority: it signs the
    GB/T 38540 structure of every seal the service makes."""
    tsa_key: str | None = None
    """Name of the platform key with which the service answers RFC 3161 requests at /tsa."""
    tsa_url: str | None = None
    """The RFC 3161 TSA that timestamps PAdES B-T/B-LT seals; unset: the service's own TSA."""

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings (`env` defaults to `os.environ`); makes the master secret on first run."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        config_file = env.get("HUREN_CONFIG")
        if config_file:
            values.update(_read_toml(Path(config_file)))
        for name, value in env.items():
            if (
                name.startswith("HUREN_")
                and name not in TOOL_VARIABLES
                and not name.startswith("HUREN_TEST_")
            ):
                values[name[len("HUREN_") :].lower()] = value
        return cls.from_values(values)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Settings:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(f"unknown setting HUREN_{unknown[0].upper()}")
        data_dir = Path(str(values.get("data_dir") or "./var")).expanduser().resolve()
        port = _int(values, "port", 8000, 1, 65535)
        host = str(values.get("host") or "127.0.0.1")
        issuer = _issuer(str(values.get("issuer") or f"http://{host}:{port}"))
        ca_profiles_dir = (
            Path(str(values.get("ca_profiles_dir") or data_dir / "ca-profiles"))
            .expanduser()
            .resolve()
        )
        database_url = str(values.get("database_url") or f"sqlite:///{data_dir / 'huren.db'}")
        if not database_url.startswith(("sqlite:", "postgresql")):
            raise SettingsError(
                "HUREN_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL"
            )
        redis_url = values.get("redis_url") or None
        if redis_url is not None and not str(redis_url).startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise SettingsError("HUREN_REDIS_URL must be a redis:// or rediss:// URL")
        redis_prefix = str(values.get("redis_prefix") or "huren:")
        if len(redis_prefix) > 64:
            raise SettingsError("HUREN_REDIS_PREFIX must be at most 64 characters")
        secret_key = _secret(values.get("secret_key"), data_dir)
        ints = {  # every integer setting, with the default declared on the field
            f.name: _int(
                values, f.name, cast(int, f.default), 0 if f.name == "trusted_proxies" else 1, 10**9
            )
            for f in fields(cls)
            if f.type in ("int", int) and f.name not in ("port", "bridge_port")
        }
        ints["bridge_port"] = _int(values, "bridge_port", cls.bridge_port, 1, 65535)
        if ints["code_ttl"] > 600:
            raise SettingsError("HUREN_CODE_TTL must be at most 600 seconds (RFC 6749 §4.1.2)")
        locale = str(values.get("default_locale") or "zh")
        if locale not in ("zh", "en"):
            raise SettingsError("HUREN_DEFAULT_LOCALE must be zh or en")
        cookie_secure = _bool(values, "cookie_secure", issuer.startswith("https://"))
        if not 1 <= ints["revocation_timeout"] <= 60:
            raise SettingsError("HUREN_REVOCATION_TIMEOUT must be 1 to 60 seconds")
        if not 1 <= ints["registry_timeout"] <= 60:
            raise SettingsError("HUREN_REGISTRY_TIMEOUT must be 1 to 60 seconds")
        if not 30 <= ints["qr_ticket_ttl"] <= 600:
            raise SettingsError("HUREN_QR_TICKET_TTL must be 30 to 600 seconds")
        platform_keys = _platform_keys(values.get("platform_keys"))
        environment = str(values.get("environment") or "production").lower()
        if environment not in ("production", "development"):
            raise SettingsError("HUREN_ENVIRONMENT must be production or development")
        return cls(
            data_dir=data_dir,
            ca_profiles_dir=ca_profiles_dir,
            issuer=issuer,
            database_url=database_url,
            redis_url=str(redis_url) if redis_url else None,
            redis_prefix=redis_prefix,
            host=host,
            port=port,
            secret_key=secret_key,
            default_locale=locale,
            cookie_secure=cookie_secure,
            revocation_online=_bool(values, "revocation_online", True),
            platform_keys=platform_keys,
            environment=environment,
            sms_gateway_url=_url(values, "sms_gateway_url"),
            sms_gateway_token=_text(values, "sms_gateway_token"),
            registry_url=_url(values, "registry_url"),
            registry_token=_text(values, "registry_token"),
            seal_maker=_key_name(values, "seal_maker", platform_keys),
            tsa_key=_key_name(values, "tsa_key", platform_keys),
            tsa_url=_url(values, "tsa_url"),
            **ints,
        )


_KEY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _key_name(
    values: Mapping[str, Any], name: str, platform_keys: tuple[tuple[str, str], ...]
) -> str | None:
    """The name of one of the configured platform keys, or None when the setting is unset."""
    raw = values.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    key = str(raw).strip()
    if key not in {n for n, _ in platform_keys}:
        raise SettingsError(
            f"HUREN_{name.upper()} names {key!r}, which is not a key in HUREN_PLATFORM_KEYS"
        )
    return key


def _platform_keys(raw: Any) -> tuple[tuple[str, str], ...]:
    """``name=URI name=URI`` (URIs carry no spaces) or a TOML table ``{name = "URI"}``."""
    if raw is None or raw == "":
        return ()
    pairs: list[tuple[str, str]]
    if isinstance(raw, Mapping):
        pairs = [(str(k), str(v)) for k, v in raw.items()]
    elif isinstance(raw, str):
        pairs = []
        for item in raw.split():
            name, sep, uri = item.partition("=")
            if not sep or not uri:
                raise SettingsError(
                    "HUREN_PLATFORM_KEYS must be name=URI pairs separated by spaces, "
                    f"e.g. bid-opening=pkcs11:token=Huren;object=bid-opening (got {name!r})"
                )
            pairs.append((name, uri))
    else:
        raise SettingsError("HUREN_PLATFORM_KEYS must be a string or a table")
    seen: set[str] = set()
    for name, uri in pairs:
        if not _KEY_NAME.match(name):
            raise SettingsError(
                f"platform key name {name!r}: lower-case letters, digits, '-' and '_' only"
            )
        if name in seen:
            raise SettingsError(f"platform key {name!r} is named twice")
        if not uri.startswith(("pkcs11:", "file:")):
            raise SettingsError(f"platform key {name!r}: the URI must start pkcs11: or file:")
        seen.add(name)
    return tuple(pairs)


def _text(values: Mapping[str, Any], name: str) -> str | None:
    raw = values.get(name)
    return str(raw) if raw not in (None, "") else None


def _url(values: Mapping[str, Any], name: str) -> str | None:
    """An optional http(s) URL of a peer service."""
    raw = _text(values, name)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"HUREN_{name.upper()} must be an http(s) URL, got {raw!r}")
    return raw


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"HUREN_CONFIG points to {path}, which does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"HUREN_CONFIG {path} is not valid TOML: {exc}") from None
    section = data.get("huren", data)
    if not isinstance(section, dict):
        raise SettingsError(f"HUREN_CONFIG {path}: [huren] must be a table")
    return {str(k).lower(): v for k, v in section.items()}


def _int(values: Mapping[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"HUREN_{name.upper()} must be an integer, got {raw!r}") from None
    if not lo <= number <= hi:
        raise SettingsError(f"HUREN_{name.upper()} must be between {lo} and {hi}, got {number}")
    return number


def _bool(values: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"HUREN_{name.upper()} must be true or false, got {raw!r}")


def _issuer(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"HUREN_ISSUER must be an http(s) URL, got {value!r}")
    if value.endswith("/"):
        raise SettingsError("HUREN_ISSUER must not end with '/' (endpoints are issuer + '/token')")
    if parts.query or parts.fragment:
        raise SettingsError("HUREN_ISSUER must not have a query or fragment (OpenID Discovery §3)")
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "http" and not local:
        raise SettingsError("HUREN_ISSUER must use https except on localhost")
    return value


def _secret(raw: Any, data_dir: Path) -> bytes:
    """The master secret (keys at rest, cookies): given, or kept in the data dir."""
    if raw:
        return _decode_secret(str(raw), "HUREN_SECRET_KEY")
    path = data_dir / SECRET_FILE
    if path.exists():
        return _decode_secret(path.read_text().strip(), str(path))
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fresh = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode_secret(path.read_text().strip(), str(path))
    except OSError as exc:
        raise SettingsError(f"HUREN_DATA_DIR {data_dir} is not writable: {exc.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(fresh + "\n")
    return base64.urlsafe_b64decode(fresh)


def _decode_secret(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SettingsError(f"{where} must be 32 bytes in base64") from None
    if len(key) != 32:
        raise SettingsError(f"{where} must be 32 bytes in base64, got {len(key)} bytes")
    return key
