"""A SoftHSM2 token of the test's own holding one RSA key and its certificate.

SoftHSM2 reads SOFTHSM2_CONF once per process (and the driver tests may have loaded it in the
test process with their own token directory), so the token is filled in a child process and
used by child processes (`huren ...`, `huren bridge serve`) that get the returned environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from cert_interop.x509 import parse_certificate
from drivers.pkcs11 import DEFAULT_MODULE_PATHS

SO_PIN = "87654321"
OBJECT_LABEL = "login"

_IMPORT = r"""
import sys
import pkcs11
from pkcs11 import Attribute
from pkcs11.util.rsa import decode_rsa_private_key
from pkcs11.util.x509 import decode_x509_certificate

module, label, pin, key_path, cert_path, object_label = sys.argv[1:7]
token = pkcs11.lib(module).get_token(token_label=label)
with token.open(rw=True, user_pin=pin) as session:
    attrs = decode_rsa_private_key(open(key_path, "rb").read())
    attrs.update({Attribute.ID: b"\x01", Attribute.LABEL: object_label, Attribute.TOKEN: True,
                  Attribute.PRIVATE: True, Attribute.SENSITIVE: True, Attribute.SIGN: True,
                  Attribute.DECRYPT: True})
    session.create_object(attrs)
    cert = decode_x509_certificate(open(cert_path, "rb").read())
    cert.update({Attribute.ID: b"\x01", Attribute.LABEL: object_label, Attribute.TOKEN: True})
    session.create_object(cert)
"""


def softhsm_module() -> str:
    """The installed SoftHSM2 module; skips the test when SoftHSM2 is missing."""
    module = next((p for p in DEFAULT_MODULE_PATHS if "softhsm" in p and os.path.isfile(p)), None)
    if module is None or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 is not installed (make system-packages installs Debian's softhsm2)")
    return module


def softhsm_token(
    base: Path, module: str, key_pem: Path, cert_pem: Path, *, label: str, pin: str
) -> dict[str, str]:
    """A fresh token directory under `base` holding the RSA key (PEM, unencrypted) and its
    certificate as object `login`; returns the environment (SOFTHSM2_CONF) that finds it."""
    tokendir = base / "tokens"
    tokendir.mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokendir}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            pin,
            "--so-pin",
            SO_PIN,
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    key = serialization.load_pem_private_key(key_pem.read_bytes(), None)
    pkcs1 = base / "softhsm-key.der"
    pkcs1.write_bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    der = base / "softhsm-cert.der"
    der.write_bytes(parse_certificate(cert_pem.read_bytes()).der)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT, module, label, pin, str(pkcs1), str(der), OBJECT_LABEL],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    pkcs1.unlink()
    return env
