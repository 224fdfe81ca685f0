"""`huren bid sign|encrypt|decrypt|verify|inspect`: the bidder's file tool（投标文件工具）.

Signs a bid file with the key on a USBKey, HSM or key file (``drivers``), seals it to one or
more recipient certificates, opens it again at bid opening, and shows who signed what and when
(``cert_interop.cms``). It composes two floor-1 packages, so it lives here on floor 3.

- Keys are named as PKCS#11 tools name them: an RFC 7512 ``pkcs11:`` URI (token and object
  labels; the module from the URI's ``module-path``, else ``$HUREN_PKCS11_MODULES``, else the
  driver's list of usual install locations) or ``file:KEY?cert=CERT`` / ``file:P12``.
- The PIN comes from the first line of stdin with ``--pin-stdin`` or from a hidden prompt on the
  terminal when the token asks for one; there is no ``--pin`` option.
- Everything streams in 64 KiB pieces; a progress bar goes to stderr for large files; output
  files are written to a temporary file next to the target and renamed only on success.
- Exit status: 0 ok, 1 a signature or chain is not valid (``verify``), 2 usage, input or token
  error (one line ``error: …`` on stderr, Chinese and English), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import getpass
import io
import json
import os
import signal
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, BinaryIO, NoReturn, TypeVar

import click
from asn1crypto import cms as _acms
from asn1crypto import core as _core

from cert_interop import cms
from cert_interop.cli_errors import UserError
from cert_interop.cli_io import (
    input_file,
    output_file,
    read_certificates,
    refuse_same_file,
)
from cert_interop.cms import oids as O
from cert_interop.cms import signer_info
from cert_interop.cms.ber import CONTEXT, UNIVERSAL, BerReader, children, guard, read_int, read_oid
from cert_interop.cms.content_info import enter_content_info, leave_content_info
from cert_interop.cms.streams import open_input
from cert_interop.errors import (
    CertInteropError,
    DecryptionFailed,
    InvalidKey,
    MalformedInput,
    NotARecipient,
    UnsupportedAlgorithm,
)
from cert_interop.validation import ValidationResult, validate
from cert_interop.x509 import Certificate, parse_certificate
from cert_interop.x509.names import name_from_asn1
from drivers.api import Token
from drivers.errors import KeyNotFound, PinRequired, TokenError
from drivers.uri import open_token, parse_token_uri

from .token_adapters import TokenKey, Use, choose_certificate, module_paths

__all__ = ["bid_group"]

PROGRESS_MIN_BYTES = 8 << 20
"""Inputs at least this large get a progress bar (when stderr is a terminal, or --progress)."""
_MAX_SMALL = 64 << 10
_MAX_BIG = 8 << 20
_MAX_ITEMS = 1000

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------------
# errors


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so output files are cleaned up like on Ctrl-C."""


_CERT_ERRORS_ZH: tuple[tuple[type[CertInteropError], str], ...] = (
    (NotARecipient, "该证书不是此数字信封的接收者"),
    (DecryptionFailed, "解密失败：密钥不对，或文件已损坏"),
    (MalformedInput, "文件格式错误或已损坏"),
    (UnsupportedAlgorithm, "不支持的算法"),
    (InvalidKey, "证书或密钥不可用"),
)


def _fail(message: str) -> NoReturn:
    first = (message.strip().splitlines() or ["failed"])[0]
    click.echo(f"error: {first}", err=True)
    raise click.exceptions.Exit(2)


def _token_cause(exc: BaseException) -> TokenError | None:
    """The driver error behind a library error (cms wraps what an unwrap callable raises)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, TokenError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _bilingual(exc: TokenError) -> str:
    return f"{exc.message_zh} / {exc.message}"


class _BidGroup(click.Group):
    """One line on stderr for every failure below ``huren bid`` (exit 2), 130 on Ctrl-C."""

    def invoke(self, ctx: click.Context) -> Any:
        previous: Any = None
        with contextlib.suppress(ValueError):  # not the main thread: leave SIGTERM alone
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except (KeyboardInterrupt, click.exceptions.Abort):
            click.echo("error: 已中断 / interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except _Terminated:
            click.echo("error: 已终止 / terminated", err=True)
            raise click.exceptions.Exit(143) from None
        except TokenError as exc:
            _fail(_bilingual(exc))
        except click.ClickException as exc:
            _fail(exc.format_message())
        except CertInteropError as exc:
            cause = _token_cause(exc)
            if cause is not None:
                _fail(_bilingual(cause))
            zh = next((z for cls, z in _CERT_ERRORS_ZH if isinstance(exc, cls)), None)
            text = str(exc) or type(exc).__name__
            _fail(f"{zh} / {text}" if zh else text)
        except UserError as exc:
            _fail(str(exc))
        except OSError as exc:
            name = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{name}{exc.strerror or exc}")
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


@click.group("bid", cls=_BidGroup)
def bid_group() -> None:
    """The bid-file tool（投标文件工具）: sign, seal, open, verify and inspect bid files with
    the key on a USBKey / HSM (pkcs11: URI) or a key file (file: URI)."""


# ---------------------------------------------------------------------------------------------
# files


class _Counting:
    """A reader that reports the bytes read to a progress bar; seeking passes through, so the
    CMS code still learns the input's length (and writes DER with definite lengths)."""

    def __init__(self, raw: BinaryIO, update: Callable[[int], None]) -> None:
        self._raw = raw
        self._update = update

    def read(self, size: int = -1, /) -> bytes:
        data = self._raw.read(size)
        if data:
            self._update(len(data))
        return data

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def _file_size(fh: BinaryIO) -> int | None:
    try:
        st = os.fstat(fh.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


@contextlib.contextmanager
def _progress(fh: BinaryIO, label: str, passes: int, show: bool | None) -> Iterator[Any]:
    """``fh`` wrapped with a progress bar on stderr when it is a large file (or ``show``)."""
    size = _file_size(fh)
    wanted = show if show is not None else sys.stderr.isatty()
    if size is None or not wanted or (show is None and size < PROGRESS_MIN_BYTES):
        yield fh
        return
    with click.progressbar(
        length=max(size * passes, 1), label=label, file=sys.stderr, show_eta=True
    ) as bar:
        yield _Counting(fh, bar.update)


# ---------------------------------------------------------------------------------------------
# keys and PINs


def _terminal_pin(label: str) -> str:
    """Ask for the PIN on the terminal, hidden; no terminal → PinRequired with a hint."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise PinRequired(
            "this USBKey or key file needs a PIN and there is no terminal to ask for it: "
            "give it on the first line of stdin with --pin-stdin",
            "该 USBKey 或密钥文件需要 PIN 码，但没有可输入的终端："
            "请使用 --pin-stdin 从标准输入提供",
        ) from None
    os.close(fd)
    pin = getpass.getpass(f"PIN 码 / PIN for {label}: ")
    if not pin:
        raise PinRequired("no PIN was entered", "未输入 PIN 码")
    return pin


def _stdin_pin(in_path: str) -> str:
    if in_path == "-":
        raise UserError(
            "--pin-stdin reads the PIN from stdin: give the data with --in FILE, not '-' "
            "（--pin-stdin 占用标准输入，请用 --in 指定文件）"
        )
    line = sys.stdin.buffer.readline()
    pin = line.rstrip(b"\r\n")
    if not pin:
        raise UserError("--pin-stdin: no PIN on the first line of stdin（标准输入中没有 PIN 码）")
    try:
        return pin.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError("--pin-stdin: the PIN is not UTF-8 text") from None


def _uri_label(uri: str) -> str:
    parsed = parse_token_uri(uri)
    return getattr(parsed, "token", None) or str(getattr(parsed, "path", "")) or "USBKey"


class BidKey:
    """The one key of a token a command uses, as an ExternalSigner and an unwrap callable.

    When the token turns out to need a PIN nobody gave (a USBKey only says so when its private
    key is used), the PIN is asked for on the terminal and the token reopened, once."""

    def __init__(
        self,
        uri: str,
        use: Use,
        *,
        pin: str | None,
        prompt: Callable[[str], str] | None,
        prefer: Callable[[Certificate], bool] | None = None,
    ) -> None:
        self._uri = uri
        self._pin = pin
        self._prompt = prompt
        self._label = _uri_label(uri)
        self._token: Token = self._open()
        try:
            entries = self._token.certificates()
            wanted: list[Certificate] | None = None
            if prefer is not None:
                wanted = [
                    c for c in (parse_certificate(e.certificate) for e in entries) if prefer(c)
                ]
            self._key = TokenKey(self._token, choose_certificate(entries, use, wanted=wanted))
        except BaseException:
            self.close()
            raise

    def _open(self) -> Token:
        try:
            return open_token(self._uri, pin=self._pin, module_paths=module_paths())
        except PinRequired:
            if not self._ask():
                raise
            return open_token(self._uri, pin=self._pin, module_paths=module_paths())

    def _ask(self) -> bool:
        if self._pin is not None or self._prompt is None:
            return False
        self._pin = self._prompt(self._label)
        return True

    def _retry(self, op: Callable[[TokenKey], _T]) -> _T:
        try:
            return op(self._key)
        except PinRequired:
            if not self._ask():
                raise
        key_id = self._key.key_id
        self._token.close()
        self._token = open_token(self._uri, pin=self._pin, module_paths=module_paths())
        entry = next((e for e in self._token.certificates() if e.key_id == key_id), None)
        if entry is None:
            raise KeyNotFound()
        self._key = TokenKey(self._token, entry)
        return op(self._key)

    @property
    def certificate(self) -> Certificate:
        return self._key.certificate

    @property
    def label(self) -> str:
        return self._key.label

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        return self._retry(lambda k: k.sign(algorithm, data=data, digest=digest))

    def unwrap(self, encrypted_key: bytes, algorithm: str) -> bytes:
        return self._retry(lambda k: k.unwrap(encrypted_key, algorithm))

    def close(self) -> None:
        with contextlib.suppress(TokenError):
            self._token.close()


@contextlib.contextmanager
def _key(
    uri: str,
    use: Use,
    pin: str | None,
    prefer: Callable[[Certificate], bool] | None = None,
) -> Iterator[BidKey]:
    prompt = None if pin is not None else _terminal_pin
    key = BidKey(uri, use, pin=pin, prompt=prompt, prefer=prefer)
    try:
        yield key
    finally:
        key.close()


# ---------------------------------------------------------------------------------------------
# inspect: what a CMS file holds, read as a stream


@dataclass
class _Sniff:
    pem: bool
    size: int | None


def _sniff(fh: BinaryIO) -> _Sniff:
    size = _file_size(fh)
    if not fh.seekable():
        return _Sniff(False, size)
    start = fh.tell()
    head = fh.read(64)
    fh.seek(start)
    return _Sniff(head.lstrip(b" \t\r\n")[:10] == b"-----BEGIN", size)


def _hex(n: int | None) -> str | None:
    return format(n, "x") if n is not None else None


def _rid(rid: Any) -> dict[str, Any]:
    if rid.name == "issuer_and_serial_number":
        ias = rid.chosen
        return {
            "issuer": name_from_asn1(ias["issuer"]).rfc4514,
            "serial_number": _hex(int(ias["serial_number"].native)),
            "subject_key_identifier": None,
        }
    ski = rid.chosen
    if isinstance(ski, _acms.RecipientKeyIdentifier):
        ski = ski["subject_key_identifier"]
    return {"issuer": None, "serial_number": None, "subject_key_identifier": ski.native.hex()}


def _key_transport(alg: Any) -> str:
    oid = str(alg["algorithm"].dotted)
    if oid == O.RSA_ENCRYPTION:
        return "rsa-pkcs1v15"
    if oid in (O.SM2_ENCRYPT, O.SM2):
        return "sm2"
    if oid == O.RSAES_OAEP:
        params = alg["parameters"]
        if isinstance(params, _core.Void) or params.native is None:
            return "rsa-oaep-sha1"
        h = O.DIGESTS.get(params["hash_algorithm"]["algorithm"].dotted, "?")
        mgf = O.DIGESTS.get(params["mask_gen_algorithm"]["parameters"]["algorithm"].dotted, "?")
        return f"rsa-oaep-{h}" + (f"-mgf1-{mgf}" if mgf != h else "")
    return oid


def _recipient(raw: bytes) -> list[dict[str, Any]]:
    tag = raw[:1]
    if tag == b"\x30":
        ri: Any = _acms.KeyTransRecipientInfo.load(raw, strict=True)
        return [
            {
                "kind": "key_transport",
                **_rid(ri["rid"]),
                "key_encryption": _key_transport(ri["key_encryption_algorithm"]),
            }
        ]
    if tag == b"\xa1":
        ri = _acms.KeyAgreeRecipientInfo.load(b"\x30" + raw[1:], strict=True)
        alg = ri["key_encryption_algorithm"]
        scheme = alg["algorithm"].dotted
        kdf = O.ECDH_SCHEMES.get(scheme)
        wrap = _acms.KeyEncryptionAlgorithm.load(alg["parameters"].dump())["algorithm"].dotted
        bits = O.KEY_WRAPS.get(wrap)
        name = f"ecdh-{kdf}kdf-aes{bits * 8}-wrap" if kdf and bits else scheme
        return [
            {"kind": "key_agreement", **_rid(rek["rid"]), "key_encryption": name}
            for rek in ri["recipient_encrypted_keys"]
        ]
    kinds = {b"\xa2": "kek", b"\xa3": "password", b"\xa4": "other"}
    return [
        {
            "kind": kinds.get(tag, "unknown"),
            "issuer": None,
            "serial_number": None,
            "subject_key_identifier": None,
            "key_encryption": None,
        }
    ]


def _count_octets(r: BerReader) -> int:
    h = r.header()
    n = 0
    for block in r.octets(h):
        n += len(block)
    return n


def _signer(raw: bytes, pool: list[Certificate]) -> dict[str, Any]:
    s = signer_info.load(raw)
    issuer = name_from_asn1(s.issuer).rfc4514 if s.issuer is not None else None
    cert = next(
        (
            c
            for c in pool
            if (s.ski is not None and c.subject_key_identifier == s.ski)
            or (s.serial == c.serial_number and issuer == c.issuer.rfc4514)
        ),
        None,
    )
    digest = O.DIGESTS.get(s.digest_oid, s.digest_oid)
    family = O.SIGNATURES.get(s.signature_oid, (s.signature_oid, None))[0]
    algorithm = {
        "sm2": "sm2-sm3",
        "rsa": f"rsa-pkcs1-{digest}",
        "ecdsa": "sm2-sm3" if digest == "sm3" else f"ecdsa-{digest}",
        "rsa-pss": "rsa-pss",
    }.get(family, family)
    when = None
    for oid, values in s.attrs:
        if oid == O.ATTR_SIGNING_TIME and values:
            with contextlib.suppress(Exception):
                when = values[0].native.isoformat()
    return {
        "subject": cert.subject.rfc4514 if cert is not None else None,
        "issuer": issuer,
        "serial_number": _hex(s.serial),
        "subject_key_identifier": s.ski.hex() if s.ski is not None else None,
        "digest_algorithm": digest,
        "signature_algorithm": algorithm,
        "signing_time": when,
    }


def _inspect_stream(fh: BinaryIO, *, recipients_only: bool = False) -> dict[str, Any]:
    src, _ = open_input(fh)
    r = BerReader(src)
    accepted = {*O.SIGNED_TYPES, *O.ENVELOPED_TYPES, O.AUTH_ENVELOPED_DATA}
    outer, frames = enter_content_info(r, accepted, "CMS SignedData or EnvelopedData")
    doc: dict[str, Any] = {
        "type": {
            O.SIGNED_DATA: "SignedData",
            O.GM_SIGNED_DATA: "SignedData",
            O.ENVELOPED_DATA: "EnvelopedData",
            O.GM_ENVELOPED_DATA: "EnvelopedData",
            O.AUTH_ENVELOPED_DATA: "AuthEnvelopedData",
        }[outer],
        "content_type": outer,
        "gm": outer in (O.GM_SIGNED_DATA, O.GM_ENVELOPED_DATA),
        "version": read_int(r),
    }
    if outer in O.SIGNED_TYPES:
        h = r.header()
        if not h.is_(UNIVERSAL, 17, True):
            raise MalformedInput("digestAlgorithms is not a SET")
        raw = r.element(_MAX_SMALL, h)
        doc["digest_algorithms"] = guard(
            "digestAlgorithms",
            lambda: [
                O.DIGESTS.get(_acms.DigestAlgorithm.load(c)["algorithm"].dotted, "?")
                for c in children(raw, 32)
            ],
        )
        h = r.header()
        if not h.is_(UNIVERSAL, 16, True):
            raise MalformedInput("encapContentInfo is not a SEQUENCE")
        f3 = r.enter(h)
        doc["encapsulated_content_type"] = read_oid(r)
        doc["detached"] = True
        doc["content_length"] = None
        if r.more(f3):
            h = r.header()
            if not h.is_(CONTEXT, 0, True):
                raise MalformedInput("eContent is not [0]")
            f4 = r.enter(h)
            doc["content_length"] = _count_octets(r)
            if r.more(f4):
                raise MalformedInput("more than one value in eContent")
            r.leave(f4)
            doc["detached"] = False
        if r.more(f3):
            raise MalformedInput("unexpected data in encapContentInfo")
        r.leave(f3)
        pool: list[Certificate] = []
        h = r.header()
        if h.is_(CONTEXT, 0, True):
            raw = r.element(_MAX_BIG, h)
            for child in guard("certificates", lambda: children(raw, _MAX_ITEMS)):
                with contextlib.suppress(CertInteropError):
                    pool.append(parse_certificate(child))
            h = r.header()
        if h.is_(CONTEXT, 1, True):
            r.element(_MAX_BIG, h)
            h = r.header()
        if not h.is_(UNIVERSAL, 17, True):
            raise MalformedInput("signerInfos is not a SET")
        raw = r.element(_MAX_BIG, h)
        infos = guard("signerInfos", lambda: children(raw, 64))
        doc["certificates"] = [
            {
                "subject": c.subject.rfc4514,
                "issuer": c.issuer.rfc4514,
                "serial_number": _hex(c.serial_number),
                "sha256_fingerprint": c.sha256_fingerprint,
            }
            for c in pool
        ]
        doc["signers"] = guard("SignerInfo", lambda: [_signer(x, pool) for x in infos])
    else:
        auth = outer == O.AUTH_ENVELOPED_DATA
        h = r.header()
        if h.is_(CONTEXT, 0, True):
            r.element(_MAX_BIG, h)  # originatorInfo
            h = r.header()
        if not h.is_(UNIVERSAL, 17, True):
            raise MalformedInput("recipientInfos is not a SET")
        raw = r.element(_MAX_BIG, h)
        doc["recipients"] = guard(
            "recipientInfos",
            lambda: [x for c in children(raw, _MAX_ITEMS) for x in _recipient(c)],
        )
        if recipients_only:
            return doc
        h = r.header()
        if not h.is_(UNIVERSAL, 16, True):
            raise MalformedInput("EncryptedContentInfo is not a SEQUENCE")
        f3 = r.enter(h)
        doc["encrypted_content_type"] = read_oid(r)
        h = r.header()
        alg_raw = r.element(_MAX_SMALL, h)
        cipher_oid = guard(
            "contentEncryptionAlgorithm",
            lambda: _acms.EncryptionAlgorithm.load(alg_raw)["algorithm"].dotted,
        )
        doc["content_cipher"] = O.CIPHERS.get(cipher_oid, (cipher_oid, 0, ""))[0]
        doc["encrypted_content_length"] = None
        if r.more(f3):
            h = r.header()
            if not h.is_(CONTEXT, 0):
                raise MalformedInput("encryptedContent is not [0]")
            n = 0
            for block in r.octets(h):
                n += len(block)
            doc["encrypted_content_length"] = n
        if r.more(f3):
            raise MalformedInput("unexpected data in EncryptedContentInfo")
        r.leave(f3)
        if auth:
            h = r.header()
            if h.is_(CONTEXT, 1, True):
                r.element(_MAX_BIG, h)
                h = r.header()
            r.primitive(h, 64)  # mac
        if r.more(frames[2]):
            r.element(_MAX_BIG, r.header())  # unprotected / unauthenticated attributes
    leave_content_info(r, frames, doc["type"])
    return doc


def _envelope_names(fh: BinaryIO) -> Callable[[Certificate], bool] | None:
    """From a seekable envelope: a test for 'this certificate is one of its recipients' (used
    to pick the right key of a token holding several). None when it cannot be read ahead."""
    if not fh.seekable():
        return None
    start = fh.tell()
    try:
        doc = _inspect_stream(fh, recipients_only=True)
    except CertInteropError:
        return None  # cms.decrypt will say what is wrong with it
    finally:
        fh.seek(start)
    named = {(r["issuer"], r["serial_number"]) for r in doc.get("recipients", ())}
    skis = {r["subject_key_identifier"] for r in doc.get("recipients", ())}

    def prefer(cert: Certificate) -> bool:
        ski = cert.subject_key_identifier
        return (cert.issuer.rfc4514, _hex(cert.serial_number)) in named or (
            ski is not None and ski.hex() in skis
        )

    return prefer


# ---------------------------------------------------------------------------------------------
# commands


_KEY = click.option(
    "--key",
    "key_uri",
    required=True,
    metavar="KEY",
    help="pkcs11:token=…;object=… (RFC 7512) or file:KEY?cert=CERT / file:P12",
)
_PIN_STDIN = click.option(
    "--pin-stdin",
    is_flag=True,
    help="read the PIN from the first line of stdin (else the terminal asks when needed)",
)
_PROGRESS = click.option(
    "--progress/--no-progress",
    "progress",
    default=None,
    help=f"progress bar on stderr [default: inputs of {PROGRESS_MIN_BYTES >> 20} MiB or more, "
    "when stderr is a terminal]",
)


def _pem_sink(dst: BinaryIO, pem: bool) -> Any:
    return cms.PemWriter(dst) if pem else dst


@bid_group.command("sign")
@_KEY
@_PIN_STDIN
@click.option("--in", "in_path", required=True, help="the bid file ('-' = stdin)")
@click.option("--out", "out_path", required=True, help="signature file, e.g. F.p7s ('-' = stdout)")
@click.option("--detached", is_flag=True, help="leave the content out of the signature")
@click.option("--chain", "chain_paths", multiple=True, help="more certificates to include")
@click.option("--pem", is_flag=True, help="write PEM instead of DER")
@_PROGRESS
def sign_cmd(
    key_uri: str,
    pin_stdin: bool,
    in_path: str,
    out_path: str,
    detached: bool,
    chain_paths: tuple[str, ...],
    pem: bool,
    progress: bool | None,
) -> None:
    """Sign a bid file as CMS SignedData (attached unless --detached): SM2 keys with SM3 and
    the GM/T 0010 OIDs, RSA and ECDSA with SHA-256; the signer's certificate, the --chain
    certificates and the signing time go in."""
    pin = _stdin_pin(in_path) if pin_stdin else None
    chain = [c for p in chain_paths for c in read_certificates(p, "chain file")]
    refuse_same_file(in_path, out_path)
    with _key(key_uri, "sign", pin) as key, input_file(in_path) as src:
        passes = 1 if detached else 2
        with (
            _progress(src, "签名 signing", passes, progress) as reader,
            output_file(out_path) as dst,
        ):
            sink = _pem_sink(dst, pem)
            cms.sign(reader, sink, [(key, key.certificate, chain)], detached=detached)
            if pem:
                sink.close()
    click.echo(f"signed by {key.certificate.subject.rfc4514} ({key.label})", err=True)


@bid_group.command("encrypt")
@click.option(
    "--to",
    "to_paths",
    multiple=True,
    required=True,
    metavar="CERT",
    help="recipient certificate file (PEM/DER, several per PEM file); repeat for more",
)
@click.option("--in", "in_path", required=True, help="the file to seal ('-' = stdin)")
@click.option("--out", "out_path", required=True, help="envelope file, e.g. F.p7e ('-' = stdout)")
@click.option(
    "--cipher",
    type=click.Choice(cms.CIPHER_NAMES),
    help="default: sm4-cbc when a recipient is SM2, else aes-256-gcm (AuthEnvelopedData)",
)
@click.option(
    "--rsa-padding",
    type=click.Choice(cms.RSA_PADDINGS),
    default="oaep",
    show_default=True,
    help="RSA key transport; pkcs1v15 for tokens without OAEP-SHA-256 (SoftHSM2, old USBKeys)",
)
@click.option("--pem", is_flag=True, help="write PEM instead of DER")
@_PROGRESS
def encrypt_cmd(
    to_paths: tuple[str, ...],
    in_path: str,
    out_path: str,
    cipher: str | None,
    rsa_padding: str,
    pem: bool,
    progress: bool | None,
) -> None:
    """Seal a file to one or more certificates (e.g. your own and the trading centre's
    bid-opening certificate): SM2 recipients get SM4-CBC with the GM/T 0010 OIDs, RSA and EC
    recipients AES-256-GCM. SM2 and other recipients may be mixed (SM4-CBC, standard OIDs)."""
    recipients = [c for p in to_paths for c in read_certificates(p, "recipient certificate file")]
    if cipher is None and not any(c.key_algorithm == "sm2" for c in recipients):
        cipher = "aes-256-gcm"
    refuse_same_file(in_path, out_path)
    with (
        input_file(in_path) as src,
        _progress(src, "加密 encrypting", 1, progress) as reader,
        output_file(out_path) as dst,
    ):
        sink = _pem_sink(dst, pem)
        cms.encrypt(reader, sink, recipients, cipher=cipher, rsa_padding=rsa_padding)
        if pem:
            sink.close()


@bid_group.command("decrypt")
@_KEY
@_PIN_STDIN
@click.option("--in", "in_path", required=True, help="the envelope, e.g. F.p7e ('-' = stdin)")
@click.option("--out", "out_path", required=True, help="plaintext file, mode 0600 ('-' = stdout)")
@_PROGRESS
def decrypt_cmd(
    key_uri: str, pin_stdin: bool, in_path: str, out_path: str, progress: bool | None
) -> None:
    """Open an envelope at bid opening: the content key is unwrapped on the token. A wrong key
    or a damaged envelope fails (exit 2) and no output file is left."""
    pin = _stdin_pin(in_path) if pin_stdin else None
    refuse_same_file(in_path, out_path)
    with input_file(in_path) as src:
        prefer = _envelope_names(src)
        with (
            _key(key_uri, "decrypt", pin, prefer) as key,
            _progress(src, "解密 decrypting", 1, progress) as reader,
            output_file(out_path, private=True) as dst,
        ):
            result = cms.decrypt(reader, dst, certificate=key.certificate, unwrap=key.unwrap)
    click.echo(
        f"decrypted {result.content_length} bytes ({result.cipher}, "
        f"{result.key_encryption}) for {key.certificate.subject.rfc4514}",
        err=True,
    )


def _chain(
    s: cms.SignerResult, result: cms.SignedDataResult, anchors: list[Certificate]
) -> ValidationResult | None:
    if s.certificate is None:
        return None
    return validate(
        s.certificate, intermediates=result.intermediates(s), anchors=anchors, purpose="sign"
    )


def _signer_doc(
    s: cms.SignerResult, chain: ValidationResult | None, checked: bool
) -> dict[str, Any]:
    c = s.certificate
    if not checked:
        chain_doc: dict[str, Any] = {"checked": False, "valid": None, "detail": "chain not checked"}
    elif chain is None:
        chain_doc = {"checked": False, "valid": False, "detail": "no signer certificate"}
    else:
        chain_doc = {
            "checked": True,
            "valid": chain.valid,
            "reason": chain.reason.value,
            "detail": chain.detail,
            "anchor": chain.anchor.subject.rfc4514 if chain.anchor is not None else None,
            "path": [x.subject.rfc4514 for x in chain.chain],
        }
    return {
        "subject": c.subject.rfc4514 if c is not None else None,
        "issuer": c.issuer.rfc4514 if c is not None else s.issuer,
        "serial_number": _hex(c.serial_number if c is not None else s.serial_number),
        "algorithm": s.signature_algorithm,
        "digest_algorithm": s.digest_algorithm,
        "signing_time": s.signing_time.isoformat() if s.signing_time else None,
        "signature_valid": s.valid,
        "reason": s.reason.value,
        "detail": s.detail,
        "sha256_fingerprint": c.sha256_fingerprint if c is not None else None,
        "chain": chain_doc,
    }


def _verify_text(doc: dict[str, Any]) -> list[str]:
    kind = "GM/T 0010" if doc["gm"] else "CMS"
    lines = [
        f"{doc['file']}: {kind} SignedData ({doc['format']}), "
        f"{'detached' if doc['detached'] else 'attached'}, "
        f"{doc['content_length']} bytes of content, {len(doc['signers'])} signer(s)"
    ]
    for i, s in enumerate(doc["signers"], 1):
        state = "valid" if s["signature_valid"] else f"INVALID ({s['reason']})"
        lines.append(f"signer {i}: {s['subject'] or '(certificate missing)'}")
        lines.append(f"  issuer: {s['issuer']}, serial {s['serial_number']}")
        lines.append(f"  algorithm: {s['algorithm']}, digest {s['digest_algorithm']}")
        lines.append(f"  signing time: {s['signing_time'] or '(none)'}")
        lines.append(f"  signature: {state}")
        if not s["signature_valid"]:
            lines.append(f"  detail: {s['detail']}")
        ch = s["chain"]
        if not ch["checked"]:
            lines.append(f"  chain: {ch['detail']}")
        elif ch["valid"]:
            lines.append(f"  chain: valid, anchored at {ch['anchor']}")
        else:
            lines.append(f"  chain: INVALID ({ch['reason']}): {ch['detail']}")
    lines.append(
        "验证通过 / Verification: OK" if doc["valid"] else "验证失败 / Verification: FAILED"
    )
    return lines


@bid_group.command("verify")
@click.option("--in", "in_path", required=True, help="the signature, e.g. F.p7s ('-' = stdin)")
@click.option("--content", "content_path", help="the signed file of a detached signature")
@click.option("--ca", "ca_paths", multiple=True, help="trust anchors: also validate signer chains")
@click.option("--cert", "cert_paths", multiple=True, help="signer certificates not in the file")
@click.option("--out", "out_path", help="write the attached content here (only when valid)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@_PROGRESS
def verify_cmd(
    in_path: str,
    content_path: str | None,
    ca_paths: tuple[str, ...],
    cert_paths: tuple[str, ...],
    out_path: str | None,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Verify every signature and show who signed, with what algorithm and when; with --ca also
    each signer's certificate chain (offline). Exit 0 only when everything checked is valid,
    1 when not, 2 when the file cannot be read."""
    anchors = [c for p in ca_paths for c in read_certificates(p, "CA file")]
    extra = [c for p in cert_paths for c in read_certificates(p, "certificate file")]
    if out_path is not None and content_path is not None:
        raise UserError("--out extracts attached content; a detached signature has none")
    refuse_same_file(in_path, out_path)
    report = sys.stderr if out_path == "-" else sys.stdout
    ok = False
    with input_file(in_path) as src, contextlib.ExitStack() as stack:
        sniff = _sniff(src)
        dst = stack.enter_context(output_file(out_path, private=True)) if out_path else None
        if content_path is not None:
            with (
                input_file(content_path) as content,
                _progress(content, "验证 verifying", 1, progress) as reader,
            ):
                result = cms.verify(src, content=reader, certificates=extra)
        else:
            with _progress(src, "验证 verifying", 1, progress) as reader:
                result = cms.verify(reader, out=dst, certificates=extra)
        chains = [_chain(s, result, anchors) if anchors else None for s in result.signers]
        signers = [
            _signer_doc(s, ch, bool(anchors)) for s, ch in zip(result.signers, chains, strict=True)
        ]
        ok = result.valid and bool(signers) and all(s["chain"]["valid"] for s in signers if anchors)
        doc = {
            "valid": ok,
            "file": in_path,
            "format": "PEM" if sniff.pem else "DER",
            "type": "SignedData",
            "content_type": result.content_type,
            "gm": result.gm,
            "detached": result.detached,
            "content_length": result.content_length,
            "chain_checked": bool(anchors),
            "signers": signers,
            "certificates": [
                {"subject": c.subject.rfc4514, "sha256_fingerprint": c.sha256_fingerprint}
                for c in result.certificates
            ],
        }
        if as_json:
            click.echo(json.dumps(doc, ensure_ascii=False, indent=2), file=report)
        else:
            click.echo("\n".join(_verify_text(doc)), file=report)
        if not ok:
            raise click.exceptions.Exit(1)  # the extracted content is discarded


def _inspect_text(doc: dict[str, Any]) -> list[str]:
    size = f", {doc['size']} bytes" if doc["size"] is not None else ""
    gm = " (GM/T 0010 OIDs)" if doc["gm"] else ""
    lines = [f"{doc['file']}: {doc['type']}{gm}, {doc['format']}{size}"]
    if doc["type"] == "SignedData":
        if doc["detached"]:
            lines.append("content: detached (not in the file)")
        else:
            lines.append(f"content: attached, {doc['content_length']} bytes")
        lines.append(f"digest algorithms: {', '.join(doc['digest_algorithms']) or '-'}")
        for i, s in enumerate(doc["signers"], 1):
            lines.append(f"signer {i}: {s['subject'] or '(certificate not in the file)'}")
            lines.append(f"  issuer: {s['issuer']}, serial {s['serial_number']}")
            lines.append(f"  algorithm: {s['signature_algorithm']}")
            lines.append(f"  signing time: {s['signing_time'] or '(none)'}")
        for c in doc["certificates"]:
            lines.append(f"certificate: {c['subject']} (serial {c['serial_number']})")
    else:
        enc = doc["encrypted_content_length"]
        lines.append(
            f"content cipher: {doc['content_cipher']}, "
            + (f"{enc} bytes encrypted" if enc is not None else "content detached")
        )
        for i, rcp in enumerate(doc["recipients"], 1):
            who = (
                f"issuer {rcp['issuer']}, serial {rcp['serial_number']}"
                if rcp["issuer"] is not None
                else f"key id {rcp['subject_key_identifier']}"
            )
            lines.append(f"recipient {i}: {who}")
            lines.append(f"  key encryption: {rcp['key_encryption']} ({rcp['kind']})")
    return lines


@bid_group.command("inspect")
@click.option("--in", "in_path", required=True, help="a .p7s / .p7e / .p7m file ('-' = stdin)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def inspect_cmd(in_path: str, as_json: bool) -> None:
    """Say what a CMS file is (SignedData / EnvelopedData / AuthEnvelopedData, PEM or DER), who
    signed it or whom it is sealed to, the content cipher and the sizes. Nothing is checked:
    use verify for that."""
    with input_file(in_path) as src:
        sniff = _sniff(src)
        doc = {
            "file": in_path,
            "format": "PEM" if sniff.pem else "DER",
            "size": sniff.size,
            **_inspect_stream(src),
        }
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(_inspect_text(doc)))
