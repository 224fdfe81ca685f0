"""`huren pki`: complete test hierarchies (root → intermediate → end entity) for RSA, ECDSA and
SM2, a parsed summary of a certificate or CRL, and a trial CRL/OCSP responder for a hierarchy.

The composition root attaches :data:`pki_group` as ``huren pki``. Every error is one line on
stderr starting with ``error:``, exit status 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric import ec as _cec
from cryptography.hazmat.primitives.asymmetric import rsa as _crsa

from cert_interop import keys as keymod
from cert_interop import sm2
from cert_interop.cli_errors import OneLineErrors
from cert_interop.errors import MalformedInput
from cert_interop.revocation.responder import RevocationResponder
from cert_interop.x509 import (
    Certificate,
    Crl,
    Revocation,
    build_certificate,
    build_crl,
    parse_certificate,
    parse_crl,
    string_extension,
)

__all__ = ["OID_ORG_CODE", "pki_group", "write_hierarchy"]

OID_ORG_CODE = "1.2.156.10260.4.1.4"
"""Identity extension carrying the unified social credit code (organisation code at some CAs)."""
DEFAULT_CREDIT_CODE = "91350100M000100Y43"
DEFAULT_ORG = "测试投标有限公司"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_is_valid(code: str) -> bool:
    """Unified social credit code check character (GB 32100-2015)."""
    if len(code) != 18 or any(ch not in _USCC_ALPHABET for ch in code):
        return False
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(code, _USCC_WEIGHTS, strict=False))
    return _USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


def _generator(alg: str) -> Callable[[], keymod.PrivateKey]:
    if alg == "rsa":
        return lambda: _crsa.generate_private_key(65537, 2048)
    if alg == "ec":
        return lambda: _cec.generate_private_key(_cec.SECP256R1())
    return sm2.generate_private_key


@dataclass(frozen=True)
class Hierarchy:
    root: Certificate
    intermediate: Certificate
    leaf: Certificate
    revoked: Certificate
    crl: Crl
    root_crl: Crl
    encryption_leaf: Certificate | None
    files: dict[str, str]


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    if private:
        os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def write_hierarchy(
    out: Path,
    *,
    alg: str,
    cn_prefix: str = "Huren Test",
    days: int = 365,
    dual: bool = False,
    organisation: str = DEFAULT_ORG,
    credit_code: str = DEFAULT_CREDIT_CODE,
    base_url: str | None = None,
    force: bool = False,
) -> Hierarchy:
    """Make root → intermediate → leaf (+ a revoked leaf and CRLs) and write them under ``out``."""
    if alg not in ("rsa", "ec", "sm2"):
        raise MalformedInput("algorithm must be rsa, ec or sm2")
    if dual and alg != "sm2":
        raise MalformedInput("--dual makes SM2 dual certificates: use it with --alg sm2")
    if days < 1:
        raise MalformedInput("--days must be at least 1")
    if not uscc_is_valid(credit_code):
        raise MalformedInput(f"{credit_code} is not a valid unified social credit code")
    base = (base_url or f"http://127.0.0.1/pki/{alg}").rstrip("/")
    names = ["root", "intermediate", "leaf", "revoked"] + (["leaf-enc"] if dual else [])
    planned = [f"{n}.{ext}" for n in names for ext in ("pem", "key")]
    planned += ["intermediate.crl", "root.crl"]
    out.mkdir(parents=True, exist_ok=True)
    if not force:
        existing = [p for p in planned if (out / p).exists()]
        if existing:
            raise MalformedInput(f"{out / existing[0]} exists (use --force to overwrite)")

    gen = _generator(alg)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    ca_until = now + timedelta(days=days * 10)
    until = now + timedelta(days=days)
    ca_dn = [("C", "CN"), ("ST", "贵州省"), ("O", f"{cn_prefix} CA")]
    root_key, inter_key = gen(), gen()
    root = build_certificate(
        subject=[*ca_dn, ("CN", f"{cn_prefix} Root CA ({alg.upper()})")],
        subject_public_key=root_key.public_key(),
        issuer_key=root_key,
        not_before=now,
        not_after=ca_until,
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
    )
    inter = build_certificate(
        subject=[*ca_dn, ("OU", "Issuing"), ("CN", f"{cn_prefix} Issuing CA ({alg.upper()})")],
        subject_public_key=inter_key.public_key(),
        issuer_key=root_key,
        issuer=root,
        not_before=now,
        not_after=ca_until,
        ca=True,
        path_length=0,
        key_usage={"key_cert_sign", "crl_sign", "digital_signature"},
        crl_urls=[f"{base}/root.crl"],
        ca_issuers_urls=[f"{base}/root.cer"],
    )
    holder_dn = [
        ("C", "CN"),
        ("ST", "贵州省"),
        ("L", "贵阳市"),
        ("O", organisation),
        ("serialNumber", credit_code),
    ]
    identity = string_extension(OID_ORG_CODE, credit_code)
    if alg == "rsa":
        sign_usage = {"digital_signature", "non_repudiation", "key_encipherment"}
    elif dual:
        sign_usage = {"digital_signature", "non_repudiation"}
    else:
        sign_usage = {"digital_signature", "non_repudiation", "key_agreement"}
    enc_usage = {"key_encipherment", "data_encipherment", "key_agreement"}

    def leaf_cert(key: keymod.PrivateKey, cn: str, usage: set[str]) -> Certificate:
        return build_certificate(
            subject=[*holder_dn, ("CN", cn)],
            subject_public_key=key.public_key(),
            issuer_key=inter_key,
            issuer=inter,
            not_before=now,
            not_after=until,
            ca=False,
            key_usage=usage,
            extended_key_usage=["client_auth", "email_protection"],
            crl_urls=[f"{base}/intermediate.crl"],
            ocsp_urls=[f"{base}/ocsp"],
            ca_issuers_urls=[f"{base}/intermediate.cer"],
            subject_alt_names=[("email", "ca-test@example.cn")],
            extra_extensions=[identity],
        )

    leaf_key, revoked_key = gen(), gen()
    leaf = leaf_cert(leaf_key, organisation, sign_usage)
    revoked = leaf_cert(revoked_key, f"{organisation} (revoked)", sign_usage)
    enc_key = gen() if dual else None
    enc_leaf = leaf_cert(enc_key, organisation, enc_usage) if enc_key is not None else None
    crl = build_crl(
        issuer=inter,
        issuer_key=inter_key,
        revoked=[Revocation(revoked.serial_number, now, "key_compromise")],
        this_update=now,
        next_update=now + timedelta(days=7),
    )
    root_crl = build_crl(
        issuer=root, issuer_key=root_key, this_update=now, next_update=now + timedelta(days=30)
    )

    items: list[tuple[str, Certificate, keymod.PrivateKey]] = [
        ("root", root, root_key),
        ("intermediate", inter, inter_key),
        ("leaf", leaf, leaf_key),
        ("revoked", revoked, revoked_key),
    ]
    if enc_leaf is not None and enc_key is not None:
        items.append(("leaf-enc", enc_leaf, enc_key))
    files: dict[str, str] = {}
    for name, cert, key in items:
        _write(out / f"{name}.pem", cert.pem())
        _write(out / f"{name}.key", keymod.dump_private_key(key, "pem"), private=True)
        files[name] = str(out / f"{name}.pem")
        files[f"{name}_key"] = str(out / f"{name}.key")
    _write(out / "intermediate.crl", crl.pem())
    _write(out / "root.crl", root_crl.pem())
    files["crl"] = str(out / "intermediate.crl")
    files["root_crl"] = str(out / "root.crl")
    return Hierarchy(root, inter, leaf, revoked, crl, root_crl, enc_leaf, files)


@click.group("pki", cls=OneLineErrors)
def pki_group() -> None:
    """Test PKI hierarchies (RSA, ECDSA, SM2) and certificate / CRL summaries."""


@pki_group.command("hierarchy")
@click.option("--alg", type=click.Choice(["rsa", "ec", "sm2"]), required=True)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--cn-prefix", default="Huren Test", show_default=True)
@click.option("--days", type=int, default=365, show_default=True, help="leaf validity")
@click.option("--dual", is_flag=True, help="SM2: a signing and an encryption leaf")
@click.option("--org", "organisation", default=DEFAULT_ORG, show_default=True)
@click.option("--credit-code", default=DEFAULT_CREDIT_CODE, show_default=True)
@click.option("--base-url", default=None, help="CRL/AIA URL base [http://127.0.0.1/pki/ALG]")
@click.option("--force", is_flag=True, help="overwrite existing files")
def hierarchy_cmd(
    alg: str,
    out: Path,
    cn_prefix: str,
    days: int,
    dual: bool,
    organisation: str,
    credit_code: str,
    base_url: str | None,
    force: bool,
) -> None:
    """Write root, intermediate, leaf (+ revoked leaf, CRLs, keys 0600) into OUT; print a
    JSON summary of what was written."""
    h = write_hierarchy(
        out,
        alg=alg,
        cn_prefix=cn_prefix,
        days=days,
        dual=dual,
        organisation=organisation,
        credit_code=credit_code,
        base_url=base_url,
        force=force,
    )
    serials = {
        "root": format(h.root.serial_number, "x"),
        "intermediate": format(h.intermediate.serial_number, "x"),
        "leaf": format(h.leaf.serial_number, "x"),
        "revoked": format(h.revoked.serial_number, "x"),
    }
    if h.encryption_leaf is not None:
        serials["leaf-enc"] = format(h.encryption_leaf.serial_number, "x")
    summary = {"algorithm": alg, "files": h.files, "serials": serials}
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


def _load_any(data: bytes) -> Certificate | Crl:
    head = data.lstrip()[:40]
    if head.startswith(b"-----BEGIN X509 CRL"):
        return parse_crl(data)
    try:
        return parse_certificate(data)
    except MalformedInput as cert_error:
        try:
            return parse_crl(data)
        except MalformedInput:
            raise cert_error from None


def _text(obj: Certificate | Crl) -> list[str]:
    d = obj.as_dict()
    lines: list[str] = []
    if isinstance(obj, Certificate):
        lines.append("Certificate")
        keys = [
            "serial_number", "subject", "issuer", "not_before", "not_after", "key_algorithm",
            "signature_algorithm", "basic_constraints", "key_usage", "extended_key_usage",
            "subject_key_identifier", "authority_key_identifier", "crl_distribution_points",
            "ocsp_urls", "ca_issuers_urls", "subject_alt_names", "sha256_fingerprint",
        ]  # fmt: skip
    else:
        lines.append("CRL")
        keys = [
            "issuer", "this_update", "next_update", "crl_number", "signature_algorithm",
            "authority_key_identifier", "revoked",
        ]  # fmt: skip
    for key in keys:
        value = d[key]
        if isinstance(value, list | dict):
            value = json.dumps(value, ensure_ascii=False)
        lines.append(f"  {key}: {value}")
    for ext in d["extensions"]:
        crit = " critical" if ext["critical"] else ""
        shown = ext["text"] if ext["text"] is not None else ext["value"]
        lines.append(f"  extension {ext['oid']}{crit}: {shown}")
    return lines


@pki_group.command("show")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def show_cmd(file: Path, as_json: bool) -> None:
    """Print a parsed summary of a certificate or CRL (PEM or DER)."""
    with open(file, "rb") as fh:
        data = fh.read(2 << 20)
    obj = _load_any(data)
    if as_json:
        d = obj.as_dict()
        d["type"] = "certificate" if isinstance(obj, Certificate) else "crl"
        click.echo(json.dumps(d, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(_text(obj)))


@pki_group.command("serve-revocation")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
def serve_revocation_cmd(directory: Path, host: str, port: int) -> None:
    """Serve DIRECTORY's CRLs and CA certificates and answer OCSP for its root and intermediate
    (signed by each CA's key, revoked serials from its CRL) until interrupted. For trials only:
    make the hierarchy with --base-url http://HOST:PORT/pki/ALG so its certificates point here."""
    responder = RevocationResponder.from_hierarchy(directory, host=host, port=port)
    summary = {"url": responder.base_url, "directory": str(directory)}
    click.echo(json.dumps(summary, ensure_ascii=False), nl=True)
    sys.stdout.flush()
    try:
        responder.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        responder.stop()
