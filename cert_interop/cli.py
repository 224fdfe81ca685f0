"""`huren crypto`: SM2, SM3 and SM4 from the command line, in the spirit of openssl and gmssl.

The composition root attaches :data:`crypto_group` as ``huren crypto``. Conventions shared by every
command:

* ``--in -`` (and ``--out -``) mean stdin (stdout); data is read and written as raw bytes.
* SM2 keys (``--key``, ``--pub``) are a hex string, or a PEM/DER key file given as ``@FILE``.
  A value that is not hex is also taken as a file name, so ``--key key.pem`` works too;
  ``@`` is needed only for a file whose name looks like hex.
* Every error is one line on stderr starting with ``error:`` and exit status 2, usage errors
  included; ``sm2 verify`` exits 1 (and prints ``FAIL``) when a well-formed request carries a
  signature that does not verify.
"""

from __future__ import annotations

import json
import os
import string
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import IO, Any, BinaryIO, Literal

import click

from . import keys as keymod
from . import sm2, sm3, sm4
from .cli_errors import OneLineErrors, UserError
from .cli_io import input_file, output_file
from .errors import CertInteropError

CHUNK = 1 << 20
SPEED_MESSAGE = bytes(range(20))  # openssl speed signs 20 bytes with SM3 and the default ID
_HEX = frozenset(string.hexdigits)
_SM3_BLOCK = 64


# ---------------------------------------------------------------------------------------------
# input and output


def _read_all(path: str) -> bytes:
    with input_file(path) as fh:
        return fh.read()


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    while True:
        block = fh.read(CHUNK)
        if not block:
            return
        yield block


def _not_same(in_path: str, out_path: str | None) -> None:
    """Refuse --out naming the --in file: it would be truncated before it is read."""
    if in_path == "-" or out_path is None or out_path == "-":
        return
    with suppress(OSError):
        if os.path.samefile(in_path, out_path):
            raise UserError(f"--out {out_path} is the --in file")


def _hex(value: str, what: str) -> bytes:
    text = "".join(value.split())
    if text[:2].lower() == "0x":
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise UserError(f"{what} is not hex") from None


def _is_hex(value: str) -> bool:
    text = value[2:] if value[:2].lower() == "0x" else value
    return bool(text) and len(text) % 2 == 0 and all(c in _HEX for c in text)


# ---------------------------------------------------------------------------------------------
# SM2 keys: hex or @FILE / FILE (PEM or DER)


def _key_file(value: str) -> bytes | None:
    """The bytes of the key file VALUE names, or None when VALUE is a hex key."""
    if value.startswith("@"):
        return _read_all(value[1:])
    if _is_hex(value):
        return None
    if not os.path.exists(value):
        raise UserError(f"{value}: neither a hex key nor an existing file (use @FILE)")
    return _read_all(value)


def _not_sm2(key: keymod.PrivateKey | keymod.PublicKey, what: str) -> UserError:
    algorithm = keymod.key_algorithm(key).upper()
    return UserError(f"{what} is an {algorithm} key, not SM2")


def _private_key(value: str, password: str | None) -> sm2.Sm2PrivateKey:
    data = _key_file(value)
    if data is None:
        return sm2.private_key_from_hex(value)
    key = keymod.load_private_key(data, password.encode() if password is not None else None)
    if not isinstance(key, sm2.Sm2PrivateKey):
        raise _not_sm2(key, "--key")
    return key


def _public_key(value: str) -> sm2.Sm2PublicKey:
    data = _key_file(value)
    if data is None:
        return sm2.public_key_from_hex(value)
    key: keymod.PublicKey
    try:
        key = keymod.load_public_key(data)
    except CertInteropError as exc:
        try:  # a private key file also names its public key, and so does a certificate
            key = keymod.load_private_key(data).public_key()
        except CertInteropError:
            try:
                from .x509 import parse_certificate

                key = parse_certificate(data).public_key
            except CertInteropError:
                raise exc from None
    if not isinstance(key, sm2.Sm2PublicKey):
        raise _not_sm2(key, "--pub")
    return key


def _uid(value: str | None) -> bytes:
    return sm2.DEFAULT_ID if value is None else value.encode()


_KEY_HELP = "hex scalar, or @FILE / FILE with a PEM or DER (PKCS#8) key"
_PUB_HELP = "hex point (04…, or compressed), or @FILE / FILE: PEM or DER public key or certificate"
_ID_HELP = "signer's user ID (default 1234567812345678)"
_PASS_HELP = "password of an encrypted PKCS#8 key file (or $HUREN_KEY_PASSWORD)"
_MODES = ("c1c3c2", "c1c2c3", "asn1")


# ---------------------------------------------------------------------------------------------
# the groups


@click.group("crypto", cls=OneLineErrors)
def crypto_group() -> None:
    """SM2, SM3, SM4 and speed tests, in the spirit of openssl/gmssl.

    `--in -` reads stdin; keys are hex or @FILE (PEM/DER). Errors are one line on stderr, exit 2.
    """


@crypto_group.group("sm2")
def sm2_group() -> None:
    """SM2 keys, signatures (SM3 with the Z value) and encryption."""


@sm2_group.command("keygen")
@click.option("--out-key", help="write the private key here (mode 0600)")
@click.option("--out-pub", help="write the public key here")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["hex", "pem"]),
    help="default: pem when writing files, hex lines on stdout",
)
def sm2_keygen(out_key: str | None, out_pub: str | None, fmt: str | None) -> None:
    """Generate an SM2 key pair.

    Without files, prints `private: <hex>` and `public: <hex>` (uncompressed point). With
    --out-key / --out-pub, writes PKCS#8 / SubjectPublicKeyInfo PEM (or one hex line with
    --format hex); what is not written to a file is printed.
    """
    fmt = fmt or ("pem" if out_key or out_pub else "hex")
    key = sm2.generate_private_key()
    pub = key.public_key()
    if fmt == "hex":
        priv_text = sm2.private_key_to_hex(key) + "\n"
        pub_text = sm2.public_key_to_hex(pub) + "\n"
    else:
        priv_text = _pem_text(keymod.dump_private_key(key, "pem"))
        pub_text = _pem_text(keymod.dump_public_key(pub, "pem"))
    if out_key:
        with output_file(out_key, private=True) as fh:
            fh.write(priv_text.encode())
    if out_pub:
        with output_file(out_pub) as fh:
            fh.write(pub_text.encode())
    labelled = fmt == "hex"
    if not out_key:
        click.echo(f"private: {priv_text}" if labelled else priv_text, nl=False)
    if not out_pub:
        click.echo(f"public: {pub_text}" if labelled else pub_text, nl=False)


def _pem_text(data: bytes) -> str:
    text = data.decode()
    return text if text.endswith("\n") else text + "\n"


@sm2_group.command("sign")
@click.option("--key", "key_arg", required=True, help=_KEY_HELP)
@click.option("--in", "in_path", required=True, help="data to sign ('-' for stdin)")
@click.option("--id", "uid", help=_ID_HELP)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["der", "raw"]),
    default="der",
    show_default=True,
    help="der: ASN.1 SEQUENCE{r,s}; raw: r||s, 64 bytes",
)
@click.option("--password", envvar="HUREN_KEY_PASSWORD", help=_PASS_HELP)
def sm2_sign(
    key_arg: str, in_path: str, uid: str | None, fmt: sm2.SignatureFormat, password: str | None
) -> None:
    """Sign a file with SM2 (SM3 and the Z value of --id); print the signature as hex."""
    key = _private_key(key_arg, password)
    data = _read_all(in_path)
    click.echo(sm2.sign(key, data, uid=_uid(uid), fmt=fmt).hex())


@sm2_group.command("verify")
@click.option("--pub", "pub_arg", required=True, help=_PUB_HELP)
@click.option("--in", "in_path", required=True, help="signed data ('-' for stdin)")
@click.option("--sig", "sig_hex", help="the signature as hex")
@click.option("--sig-file", help="file with the signature, binary or hex text")
@click.option("--id", "uid", help=_ID_HELP)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["der", "raw", "auto"]),
    default="auto",
    show_default=True,
    help="auto: 64 bytes are r||s, anything else DER",
)
def sm2_verify(
    pub_arg: str,
    in_path: str,
    sig_hex: str | None,
    sig_file: str | None,
    uid: str | None,
    fmt: Literal["der", "raw", "auto"],
) -> None:
    """Verify an SM2 signature: prints OK and exits 0, or prints FAIL and exits 1.

    FAIL (exit 1) covers any signature that does not verify, including hex that is not a
    signature at all. Exit 2 (one line on stderr) means the check could not run: an unreadable
    file, a bad key, or a --sig that is not hex.
    """
    if (sig_hex is None) == (sig_file is None):
        raise UserError("give exactly one of --sig and --sig-file")
    pub = _public_key(pub_arg)
    if sig_hex is not None:
        sig = _hex(sig_hex, "--sig")
    else:
        assert sig_file is not None
        raw = _read_all(sig_file)
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            text = ""
        sig = bytes.fromhex(text) if text and _is_hex(text) else raw
    data = _read_all(in_path)
    try:
        valid = sm2.verify(pub, sig, data, uid=_uid(uid), fmt=fmt)
    except (CertInteropError, ValueError):  # a signature that does not even parse
        valid = False
    if valid:
        click.echo("OK")
        return
    click.echo("FAIL")
    raise click.exceptions.Exit(1)


@sm2_group.command("encrypt")
@click.option("--pub", "pub_arg", required=True, help=_PUB_HELP)
@click.option("--in", "in_path", required=True, help="plaintext ('-' for stdin)")
@click.option("--mode", type=click.Choice(_MODES), default="c1c3c2", show_default=True)
@click.option("--out", "out_path", help="ciphertext file (default: raw bytes on stdout)")
def sm2_encrypt(pub_arg: str, in_path: str, mode: sm2.CipherMode, out_path: str | None) -> None:
    """Encrypt with SM2 to a public key; C1 is an uncompressed point (04||x||y)."""
    pub = _public_key(pub_arg)
    _not_same(in_path, out_path)
    ct = sm2.encrypt(pub, _read_all(in_path), mode=mode)
    with output_file(out_path) as fh:
        fh.write(ct)


@sm2_group.command("decrypt")
@click.option("--key", "key_arg", required=True, help=_KEY_HELP)
@click.option("--in", "in_path", required=True, help="ciphertext ('-' for stdin)")
@click.option("--mode", type=click.Choice(_MODES), default="c1c3c2", show_default=True)
@click.option("--out", "out_path", help="plaintext file (default: raw bytes on stdout)")
@click.option("--password", envvar="HUREN_KEY_PASSWORD", help=_PASS_HELP)
def sm2_decrypt(
    key_arg: str, in_path: str, mode: sm2.CipherMode, out_path: str | None, password: str | None
) -> None:
    """Decrypt SM2 ciphertext (C1 with or without its 04 prefix, as sm-crypto emits it)."""
    key = _private_key(key_arg, password)
    _not_same(in_path, out_path)
    pt = sm2.decrypt(key, _read_all(in_path), mode=mode)
    with output_file(out_path, private=True) as fh:
        fh.write(pt)


# ---------------------------------------------------------------------------------------------
# SM3


class _HmacSm3:
    """HMAC-SM3 (RFC 2104 over the library's streaming SM3), for files too big to hold."""

    def __init__(self, key: bytes) -> None:
        if len(key) > _SM3_BLOCK:
            key = sm3.sm3(key)
        key = key.ljust(_SM3_BLOCK, b"\0")
        self._outer_pad = bytes(b ^ 0x5C for b in key)
        self._inner = sm3.SM3()
        self._inner.update(bytes(b ^ 0x36 for b in key))

    def update(self, data: bytes) -> None:
        self._inner.update(data)

    def hexdigest(self) -> str:
        outer = sm3.SM3()
        outer.update(self._outer_pad)
        outer.update(self._inner.digest())
        return outer.hexdigest()


@crypto_group.command("sm3")
@click.option("--in", "in_path", default="-", show_default=True, help="data ('-' for stdin)")
@click.option("--hmac-key", help="hex key: print HMAC-SM3 instead of SM3")
def sm3_command(in_path: str, hmac_key: str | None) -> None:
    """Print the SM3 digest (or HMAC-SM3) of a file as hex, reading it in 1 MiB chunks."""
    h: _HmacSm3 | sm3.SM3 = (
        _HmacSm3(_hex(hmac_key, "--hmac-key")) if hmac_key is not None else sm3.SM3()
    )
    with input_file(in_path) as fh:
        for block in _chunks(fh):
            h.update(block)
    click.echo(h.hexdigest())


# ---------------------------------------------------------------------------------------------
# SM4


@crypto_group.group("sm4")
def sm4_group() -> None:
    """SM4: CBC (PKCS#7, streamed), GCM (tag appended), ECB for legacy decryption only."""


def _sm4_options(f: Callable[..., None]) -> Callable[..., None]:
    f = click.option("--out", "out_path", help="output file (default: raw bytes on stdout)")(f)
    f = click.option("--in", "in_path", required=True, help="input ('-' for stdin)")(f)
    f = click.option("--aad", "aad_hex", help="GCM additional authenticated data, hex")(f)
    f = click.option(
        "--mode", type=click.Choice(["cbc", "gcm", "ecb"]), default="cbc", show_default=True
    )(f)
    f = click.option("--iv", "iv_hex", help="hex: 16-byte IV (cbc) or nonce (gcm, usually 12)")(f)
    return click.option("--key", "key_hex", required=True, help="hex, 16 bytes")(f)


def _sm4_params(
    key_hex: str, iv_hex: str | None, mode: str, aad_hex: str | None
) -> tuple[bytes, bytes, bytes]:
    key = _hex(key_hex, "--key")
    if len(key) != 16:
        raise UserError(f"--key must be 16 bytes (32 hex digits), not {len(key)}")
    if aad_hex is not None and mode != "gcm":
        raise UserError("--aad is for --mode gcm only")
    aad = _hex(aad_hex, "--aad") if aad_hex is not None else b""
    if mode == "ecb":
        if iv_hex is not None:
            raise UserError("--mode ecb takes no --iv")
        return key, b"", aad
    if iv_hex is None:
        raise UserError(f"--mode {mode} needs --iv")
    iv = _hex(iv_hex, "--iv")
    if mode == "cbc" and len(iv) != 16:
        raise UserError(f"--iv must be 16 bytes for cbc, not {len(iv)}")
    return key, iv, aad


def _stream(fh: IO[bytes], out: BinaryIO, cipher: Any) -> None:
    for block in _chunks(fh):
        out.write(cipher.update(block))
    out.write(cipher.finalize())


@sm4_group.command("encrypt")
@_sm4_options
def sm4_encrypt(
    key_hex: str,
    iv_hex: str | None,
    mode: str,
    aad_hex: str | None,
    in_path: str,
    out_path: str | None,
) -> None:
    """Encrypt with SM4-CBC (streamed, PKCS#7) or SM4-GCM (ciphertext||tag)."""
    if mode == "ecb":
        raise UserError("ECB is for legacy decryption only; use --mode cbc or gcm")
    key, iv, aad = _sm4_params(key_hex, iv_hex, mode, aad_hex)
    _not_same(in_path, out_path)
    if mode == "gcm":
        ct = sm4.encrypt_gcm(key, iv, _read_all(in_path), aad)
        with output_file(out_path) as out:
            out.write(ct)
        return
    with input_file(in_path) as fh, output_file(out_path) as out:
        _stream(fh, out, sm4.cbc_encryptor(key, iv))


@sm4_group.command("decrypt")
@_sm4_options
def sm4_decrypt(
    key_hex: str,
    iv_hex: str | None,
    mode: str,
    aad_hex: str | None,
    in_path: str,
    out_path: str | None,
) -> None:
    """Decrypt SM4-CBC (streamed; a bad key or padding fails at the end), GCM or ECB."""
    key, iv, aad = _sm4_params(key_hex, iv_hex, mode, aad_hex)
    _not_same(in_path, out_path)
    if mode == "cbc":
        with input_file(in_path) as fh, output_file(out_path, private=True) as out:
            _stream(fh, out, sm4.cbc_decryptor(key, iv))
        return
    data = _read_all(in_path)
    pt = sm4.decrypt_gcm(key, iv, data, aad) if mode == "gcm" else sm4.decrypt_ecb(key, data)
    with output_file(out_path, private=True) as out:
        out.write(pt)


# ---------------------------------------------------------------------------------------------
# speed


def sm2_speed(seconds: float) -> dict[str, Any]:
    """SM2 sign and verify operations per second over 20 bytes, as `openssl speed sm2` does.

    Each phase runs for SECONDS of wall-clock time on one fresh key, default ID, DER signatures.
    """
    key = sm2.generate_private_key()
    pub = key.public_key()
    msg = SPEED_MESSAGE
    sign, verify = sm2.sign, sm2.verify
    sig = sign(key, msg)
    if not verify(pub, sig, msg):
        raise UserError("SM2 self-check failed: a fresh signature does not verify")

    def run(op: Callable[[], object]) -> tuple[int, float]:
        clock = time.perf_counter
        start = clock()
        deadline = start + seconds
        count = 0
        while True:
            op()
            count += 1
            now = clock()
            if now >= deadline:
                return count, now - start

    signs, sign_s = run(lambda: sign(key, msg))
    verifies, verify_s = run(lambda: verify(pub, sig, msg))
    return {
        "algorithm": "sm2",
        "bits": 256,
        "message_bytes": len(msg),
        "seconds": seconds,
        "sign_count": signs,
        "verify_count": verifies,
        "sign_per_s": round(signs / sign_s, 1),
        "verify_per_s": round(verifies / verify_s, 1),
    }


@crypto_group.group("speed")
def speed_group() -> None:
    """Operations per second, like `openssl speed`."""


@speed_group.command("sm2")
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.1, max=600),
    default=3.0,
    show_default=True,
    help="duration of each of the sign and verify runs",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def speed_sm2(seconds: float, as_json: bool) -> None:
    """SM2 sign/s and verify/s over 20 bytes (SM3, default ID), as `openssl speed sm2`."""
    result = sm2_speed(seconds)
    if as_json:
        click.echo(json.dumps(result))
        return
    sign_per_s, verify_per_s = result["sign_per_s"], result["verify_per_s"]
    click.echo(f"{'':30}{'sign':>9} {'verify':>9} {'sign/s':>9} {'verify/s':>9}")
    click.echo(
        f"{' 256 bits SM2 (CurveSM2)':30}{1 / sign_per_s:8.4f}s {1 / verify_per_s:8.4f}s "
        f"{sign_per_s:9.1f} {verify_per_s:9.1f}"
    )
    click.echo(f"sign_per_s: {sign_per_s}")
    click.echo(f"verify_per_s: {verify_per_s}")


__all__ = ["crypto_group", "sm2_speed"]

# `huren crypto cms …` and `huren crypto cert …` (cert_interop/cms_cli.py)
from .cms_cli import cert_group, cms_group  # noqa: E402

crypto_group.add_command(cms_group)
crypto_group.add_command(cert_group)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(crypto_group.main())
