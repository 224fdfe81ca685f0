"""Keys, certificates and real SoftHSM2 tokens, made once per test session.

SoftHSM2 reads ``SOFTHSM2_CONF`` once, when the module is first initialised in this process, so
every token the tests use is created up front in one temporary token directory:

- ``Huren`` (user PIN ``USER_PIN``): an RSA key+certificate (id 01, sign and decrypt), an EC
  P-256 key+certificate (id 02, sign only), an RSA key that may only decrypt (id 04, no SIGN),
  an SM2 key+certificate stored as CKK_EC on the SM2 curve (id 05, sign and decrypt, which
  SoftHSM cannot do), and
  a CA certificate without a key (id 09);
- ``Second`` (same PINs, empty) for the wrong-PIN tests, so they do not disturb ``Huren``;
- ``NoUserPin``: initialised by the SO but never given a user PIN (SoftHSM2 never locks a PIN,
  so this is the closest real "PIN unusable" state).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cert_interop import keys, sm2
from cert_interop.x509 import Certificate, build_certificate
from drivers.pkcs11 import DEFAULT_MODULE_PATHS

USER_PIN = "123456"
SO_PIN = "87654321"

SOFTHSM_MODULES = [p for p in DEFAULT_MODULE_PATHS if "softhsm" in p]

_INIT_WITHOUT_USER_PIN = r"""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
if lib.C_Initialize(None) != 0:
    sys.exit(98)
count = ctypes.c_ulong(0)
lib.C_GetSlotList(ctypes.c_ubyte(0), None, ctypes.byref(count))
slots = (ctypes.c_ulong * count.value)()
lib.C_GetSlotList(ctypes.c_ubyte(0), slots, ctypes.byref(count))
for slot in slots[: count.value]:
    info = ctypes.create_string_buffer(512)  # CK_TOKEN_INFO; flags follow 96 bytes of text
    if lib.C_GetTokenInfo(ctypes.c_ulong(slot), info) != 0:
        continue
    if ctypes.c_ulong.from_buffer(info, 96).value & 0x400:  # CKF_TOKEN_INITIALIZED
        continue
    so = sys.argv[3].encode()
    label = sys.argv[2].encode().ljust(32, b" ")
    sys.exit(lib.C_InitToken(ctypes.c_ulong(slot), so, ctypes.c_ulong(len(so)), label))
sys.exit(99)
"""


@dataclass(frozen=True)
class Issued:
    """A private key and its self-signed certificate."""

    key: keys.PrivateKey
    cert: Certificate


def _issue(key: keys.PrivateKey, cn: str, usage: list[str], *, ca: bool = False) -> Issued:
    cert = build_certificate(
        subject=[("CN", cn), ("O", "Huren test"), ("C", "CN")],
        subject_public_key=key.public_key(),
        issuer_key=key,
        key_usage=usage,
        ca=True if ca else None,
    )
    return Issued(key, cert)


@pytest.fixture(scope="session")
def issued() -> dict[str, Issued]:
    """rsa (sign+decrypt), ec (sign), rsa-decrypt (decrypt only), sm2 (sign), sm2-enc, ca."""
    both = ["digital_signature", "key_encipherment"]
    return {
        "rsa": _issue(rsa.generate_private_key(65537, 2048), "平台开标密钥", both),
        "ec": _issue(ec.generate_private_key(ec.SECP256R1()), "ec-sign", ["digital_signature"]),
        "rsa-decrypt": _issue(
            rsa.generate_private_key(65537, 2048), "rsa-decrypt", ["key_encipherment"]
        ),
        "sm2": _issue(sm2.generate_private_key(), "投标人签名", ["digital_signature"]),
        "sm2-enc": _issue(sm2.generate_private_key(), "投标人加密", ["key_encipherment"]),
        "ca": _issue(
            ec.generate_private_key(ec.SECP256R1()), "test CA", ["key_cert_sign"], ca=True
        ),
    }


@dataclass(frozen=True)
class SoftHsm:
    module: str
    """Path of libsofthsm2.so as installed (may be a symlink)."""
    conf: Path
    tokendir: Path


def _softhsm_module() -> str | None:
    return next((p for p in SOFTHSM_MODULES if os.path.isfile(p)), None)


@pytest.fixture(scope="session")
def softhsm(
    tmp_path_factory: pytest.TempPathFactory, issued: dict[str, Issued]
) -> Iterator[SoftHsm]:
    module = _softhsm_module()
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        pytest.skip("SoftHSM2 is not installed (make system-packages installs Debian's softhsm2)")
    base = tmp_path_factory.mktemp("softhsm")
    tokendir = base / "tokens"
    tokendir.mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokendir}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    for label in ("Huren", "Second"):
        subprocess.run(
            [
                util,
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                USER_PIN,
                "--so-pin",
                SO_PIN,
            ],
            check=True,
            capture_output=True,
            env=env,
        )
    done = subprocess.run(
        [sys.executable, "-c", _INIT_WITHOUT_USER_PIN, module, "NoUserPin", SO_PIN],
        capture_output=True,
        env=env,
    )
    assert done.returncode == 0, done
    _fill_huren_token(os.path.realpath(module), issued)
    try:
        yield SoftHsm(module, conf, tokendir)
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def _fill_huren_token(module: str, issued: dict[str, Issued]) -> None:
    """Import keys and certificates with python-pkcs11 (no pkcs11-tool needed)."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import decode_ec_private_key
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    def private_attrs(key: keys.PrivateKey) -> dict[Attribute, Any]:
        if isinstance(key, sm2.Sm2PrivateKey):
            return {
                Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                Attribute.KEY_TYPE: KeyType.EC,
                Attribute.EC_PARAMS: bytes.fromhex("06082a811ccf5501822d"),
                Attribute.VALUE: bytes.fromhex(sm2.private_key_to_hex(key)),
            }
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        if isinstance(key, rsa.RSAPrivateKey):
            return decode_rsa_private_key(der)
        return decode_ec_private_key(der)

    lib = pkcs11.lib(module)
    token = lib.get_token(token_label="Huren")
    with token.open(rw=True, user_pin=USER_PIN) as session:
        for key_id, name, label, can_sign in (
            (b"\x01", "rsa", "platform", True),
            (b"\x02", "ec", "ec-sign", True),
            (b"\x04", "rsa-decrypt", "decrypt-only", False),
            (b"\x05", "sm2", "sm2-sign", True),
        ):
            attrs = private_attrs(issued[name].key)
            attrs.update(
                {
                    Attribute.ID: key_id,
                    Attribute.LABEL: label,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.SIGN: can_sign,
                    Attribute.DECRYPT: name != "ec",
                }
            )
            session.create_object(attrs)
        for key_id, name, label in (
            (b"\x01", "rsa", "platform"),
            (b"\x02", "ec", "ec-sign"),
            (b"\x04", "rsa-decrypt", "decrypt-only"),
            (b"\x05", "sm2", "sm2-sign"),
            (b"\x09", "ca", "ca"),
        ):
            cert = decode_x509_certificate(issued[name].cert.der)
            cert.update({Attribute.ID: key_id, Attribute.LABEL: label, Attribute.TOKEN: True})
            session.create_object(cert)
