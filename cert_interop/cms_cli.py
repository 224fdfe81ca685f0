"""`huren crypto cms` and `huren crypto cert`: CMS signing and envelopes, certificate checks.

Attached to ``crypto_group`` at the end of :mod:`cert_interop.cli`, so errors follow its rules:
one line on stderr starting with ``error:`` and exit status 2. ``cms verify`` and ``cert verify``
exit 0 when everything is valid and 1 when something is not.

Data goes through stdin/stdout by default, as raw bytes, in chunks (a 200 MB bid file is never
held in memory). Keys are PEM or DER (PKCS#8, encrypted too); the password comes from the first
line of stdin with ``--password-stdin`` (then ``--in`` must name a file) or from
``$HUREN_KEY_PASSWORD``. Certificate files may hold several PEM certificates.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any, cast

import click

from cert_interop import cms
from cert_interop import keys as keymod
from cert_interop.cli_errors import UserError
from cert_interop.cli_io import (
    input_file,
    output_file,
    pem_blocks,
    read_certificates,
    read_small,
    refuse_same_file,
)
from cert_interop.pki_cli import show_cmd
from cert_interop.validation import Purpose, ValidationResult, validate
from cert_interop.x509 import Certificate, Crl, parse_crl

__all__ = ["cert_group", "cms_group"]


# ---------------------------------------------------------------------------------------------
# files


def _cert(path: str) -> Certificate:
    certs = read_certificates(path)
    if len(certs) != 1:
        raise UserError(f"{path} holds {len(certs)} certificates; give one")
    return certs[0]


def _crls(path: str) -> list[Crl]:
    data = read_small(path, "CRL file")
    blocks = pem_blocks(data, "X509 CRL")
    if blocks is None:
        return [parse_crl(data)]
    return [parse_crl(b) for b in blocks]


def _password(password_stdin: bool, in_path: str) -> bytes | None:
    if password_stdin:
        if in_path == "-":
            raise UserError("--password-stdin reads stdin: give the data with --in FILE")
        line = sys.stdin.buffer.readline()
        return line.rstrip(b"\r\n")
    env = os.environ.get("HUREN_KEY_PASSWORD")
    return env.encode() if env else None


def _key(path: str, password: bytes | None) -> keymod.PrivateKey:
    return keymod.load_private_key(read_small(path, "key file"), password)


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"--at {value!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# huren crypto cms


@click.group("cms")
def cms_group() -> None:
    """CMS SignedData and EnvelopedData (RSA, ECDSA, SM2 with GM/T 0010 OIDs), streamed."""


_PASSWORD_STDIN = click.option(
    "--password-stdin",
    is_flag=True,
    help="read the key password from the first line of stdin (else $HUREN_KEY_PASSWORD)",
)


@cms_group.command("sign")
@click.option("--key", "key_path", required=True, help="signer's private key (PEM or DER)")
@_PASSWORD_STDIN
@click.option("--cert", "cert_path", required=True, help="signer's certificate")
@click.option("--chain", "chain_paths", multiple=True, help="more certificates to include")
@click.option("--detached", is_flag=True, help="leave the content out of the signature")
@click.option("--in", "in_path", default="-", show_default=True, help="content ('-' = stdin)")
@click.option("--out", "out_path", help="signature file (default stdout)")
@click.option("--pem", is_flag=True, help="write PEM (-----BEGIN CMS-----) instead of DER")
@click.option("--digest", type=click.Choice(cms.SIGN_DIGESTS), help="default sha256 (sm3 for SM2)")
@click.option("--gm/--no-gm", "gm", default=None, help="GM/T 0010 OIDs [default: SM2 signers]")
def sign_cmd(
    key_path: str,
    password_stdin: bool,
    cert_path: str,
    chain_paths: tuple[str, ...],
    detached: bool,
    in_path: str,
    out_path: str | None,
    pem: bool,
    digest: str | None,
    gm: bool | None,
) -> None:
    """Sign content as CMS SignedData (attached unless --detached)."""
    key = _key(key_path, _password(password_stdin, in_path))
    cert = _cert(cert_path)
    chain = [c for p in chain_paths for c in read_certificates(p, "chain file")]
    refuse_same_file(in_path, out_path)
    with input_file(in_path) as src, output_file(out_path) as dst:
        sink: Any = cms.PemWriter(dst) if pem else dst
        cms.sign(src, sink, [(key, cert, chain)], detached=detached, digest=digest, gm_oids=gm)
        if pem:
            sink.close()


def _chain_report(
    signer: cms.SignerResult, result: cms.SignedDataResult, anchors: list[Certificate]
) -> ValidationResult | None:
    if signer.certificate is None:
        return None
    return validate(
        signer.certificate,
        intermediates=result.intermediates(signer),
        anchors=anchors,
        purpose="sign",
    )


@cms_group.command("verify")
@click.option("--in", "in_path", default="-", show_default=True, help="CMS (DER, BER or PEM)")
@click.option("--content", "content_path", help="the signed content of a detached signature")
@click.option("--ca", "ca_paths", multiple=True, help="trust anchors: validate signer chains")
@click.option("--cert", "cert_paths", multiple=True, help="signer certificates not in the CMS")
@click.option("--out", "out_path", help="write the attached content here (removed if invalid)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def verify_cmd(
    in_path: str,
    content_path: str | None,
    ca_paths: tuple[str, ...],
    cert_paths: tuple[str, ...],
    out_path: str | None,
    as_json: bool,
) -> None:
    """Verify every signature of a SignedData; with --ca also each signer's certificate chain
    (offline, the message's certificates as intermediates). Exit 0 when all is valid, 1 when
    not, 2 when the check could not run."""
    anchors = [c for p in ca_paths for c in read_certificates(p, "CA file")]
    extra = [c for p in cert_paths for c in read_certificates(p)]
    refuse_same_file(in_path, out_path)
    report = sys.stderr if out_path == "-" else sys.stdout
    ok = False
    with input_file(in_path) as src, output_file(out_path, private=True) as dst:
        if content_path is not None:
            with input_file(content_path) as content:
                result = cms.verify(src, content=content, certificates=extra)
        else:
            result = cms.verify(src, out=dst if out_path else None, certificates=extra)
        chains = [_chain_report(s, result, anchors) if anchors else None for s in result.signers]
        ok = result.valid and all(c is not None and c.valid for c in chains if anchors)
        if as_json:
            doc = result.as_dict()
            for entry, chain in zip(doc["signers"], chains, strict=True):
                entry["chain"] = chain.as_dict() if chain is not None else None
            doc["valid"] = ok
            click.echo(json.dumps(doc, ensure_ascii=False, indent=2), file=report)
        else:
            click.echo("\n".join(_verify_text(result, chains, bool(anchors), ok)), file=report)
        if not ok and out_path not in (None, "-"):
            raise click.exceptions.Exit(1)  # output_file removes the extracted content
    if not ok:
        raise click.exceptions.Exit(1)


def _verify_text(
    result: cms.SignedDataResult,
    chains: list[ValidationResult | None],
    checked: bool,
    ok: bool,
) -> list[str]:
    kind = "GM/T 0010" if result.gm else "CMS"
    lines = [
        f"{kind} SignedData, {'detached' if result.detached else 'attached'}, "
        f"{result.content_length} bytes of content, {len(result.signers)} signer(s)"
    ]
    for i, (s, chain) in enumerate(zip(result.signers, chains, strict=True), 1):
        who = s.certificate.subject.rfc4514 if s.certificate else (s.issuer or "?")
        state = "OK" if s.valid else f"FAIL ({s.reason.value})"
        lines.append(f"signer {i}: {state} {who}")
        lines.append(f"  algorithm: {s.signature_algorithm}, digest {s.digest_algorithm}")
        if s.signing_time:
            lines.append(f"  signing time: {s.signing_time.isoformat()}")
        if not s.valid:
            lines.append(f"  detail: {s.detail}")
        if checked:
            if chain is None:
                lines.append("  chain: not checked (no signer certificate)")
            elif chain.valid:
                anchor = chain.anchor.subject.rfc4514 if chain.anchor else "?"
                lines.append(f"  chain: valid, anchored at {anchor}")
            else:
                lines.append(f"  chain: INVALID ({chain.reason.value}): {chain.detail}")
    lines.append("Verification: OK" if ok else "Verification: FAILED")
    return lines


@cms_group.command("encrypt")
@click.option(
    "--recipient", "recipient_paths", multiple=True, required=True, help="recipient certificate"
)
@click.option(
    "--cipher",
    type=click.Choice(cms.CIPHER_NAMES),
    help="default sm4-cbc when a recipient is SM2, else aes-256-cbc",
)
@click.option(
    "--rsa-padding", type=click.Choice(cms.RSA_PADDINGS), default="oaep", show_default=True
)
@click.option("--gm/--no-gm", "gm", default=None, help="GM/T 0010 OIDs [default: SM2 only]")
@click.option("--in", "in_path", default="-", show_default=True, help="content ('-' = stdin)")
@click.option("--out", "out_path", help="envelope file (default stdout)")
@click.option("--pem", is_flag=True, help="write PEM instead of DER")
def encrypt_cmd(
    recipient_paths: tuple[str, ...],
    cipher: str | None,
    rsa_padding: str,
    gm: bool | None,
    in_path: str,
    out_path: str | None,
    pem: bool,
) -> None:
    """Encrypt content to one or more certificates as CMS EnvelopedData (AuthEnvelopedData with
    aes-256-gcm)."""
    recipients = [c for p in recipient_paths for c in read_certificates(p, "recipient file")]
    refuse_same_file(in_path, out_path)
    with input_file(in_path) as src, output_file(out_path) as dst:
        sink: Any = cms.PemWriter(dst) if pem else dst
        cms.encrypt(src, sink, recipients, cipher=cipher, rsa_padding=rsa_padding, gm_oids=gm)
        if pem:
            sink.close()


@cms_group.command("decrypt")
@click.option("--key", "key_path", required=True, help="recipient's private key (PEM or DER)")
@_PASSWORD_STDIN
@click.option("--cert", "cert_path", required=True, help="recipient's certificate")
@click.option("--in", "in_path", default="-", show_default=True, help="envelope (DER/BER/PEM)")
@click.option("--out", "out_path", help="plaintext file, mode 0600 (default stdout)")
def decrypt_cmd(
    key_path: str, password_stdin: bool, cert_path: str, in_path: str, out_path: str | None
) -> None:
    """Decrypt a CMS EnvelopedData addressed to --cert. A wrong key or tampered envelope fails
    (exit 2) and the --out file is removed."""
    key = _key(key_path, _password(password_stdin, in_path))
    cert = _cert(cert_path)
    refuse_same_file(in_path, out_path)
    with input_file(in_path) as src, output_file(out_path, private=True) as dst:
        cms.decrypt(src, dst, certificate=cert, key=key)


# ---------------------------------------------------------------------------------------------
# huren crypto cert


@click.group("cert")
def cert_group() -> None:
    """Certificates: show one, validate its chain offline."""


cert_group.add_command(show_cmd, "show")


@cert_group.command("verify")
@click.argument("cert_path", metavar="CERT")
@click.option("--ca", "ca_paths", multiple=True, required=True, help="trust anchors (PEM/DER)")
@click.option("--untrusted", "untrusted_paths", multiple=True, help="intermediate certificates")
@click.option("--crl", "crl_paths", multiple=True, help="CRLs to check revocation with")
@click.option(
    "--purpose", type=click.Choice(["sign", "encrypt", "any"]), default="any", show_default=True
)
@click.option("--at", "at_value", help="validation time, ISO 8601 [now]")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def cert_verify_cmd(
    cert_path: str,
    ca_paths: tuple[str, ...],
    untrusted_paths: tuple[str, ...],
    crl_paths: tuple[str, ...],
    purpose: str,
    at_value: str | None,
    as_json: bool,
) -> None:
    """Validate CERT's chain offline (validity, key usage for --purpose, CRLs given). Exit 0 when
    valid, 1 when not, 2 when the check could not run."""
    leaf = _cert(cert_path)
    anchors = [c for p in ca_paths for c in read_certificates(p, "CA file")]
    intermediates = [c for p in untrusted_paths for c in read_certificates(p, "untrusted file")]
    crls = [c for p in crl_paths for c in _crls(p)]
    result = validate(
        leaf,
        intermediates=intermediates,
        anchors=anchors,
        crls=crls,
        purpose=cast(Purpose, purpose),
        at=_at(at_value),
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{leaf.subject.rfc4514}: {'OK' if result.valid else 'INVALID'}")
        if not result.valid:
            click.echo(f"  reason: {result.reason.value}: {result.detail}")
        for i, c in enumerate(result.chain):
            click.echo(f"  {i}: {c.subject.rfc4514}")
        if result.valid:
            checked = "checked" if result.revocation_checked else "not checked"
            click.echo(f"  revocation: {checked}")
    if not result.valid:
        raise click.exceptions.Exit(1)
