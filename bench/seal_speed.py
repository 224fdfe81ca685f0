"""Seal stamps and verifications per second on a 20-page PDF: `seal.pdf` against bare pyhanko.

    .venv/bin/python bench/seal_speed.py [--seconds 5] [--pages 20] [--json PATH]
        [--quiet-wait 15] [--quiet-step 4]

Everything runs in this process, in one run, on the same inputs:

* the document: --pages A4 pages written with pyhanko's writer (`tests/seal/pdf/pdfs.make_pdf`),
  "Page n" and 40 lines of Courier text on every page, and on the last page "投标人（盖章）" in
  a Type0 font with a ToUnicode CMap (as Word/WPS write Chinese);
* the seal picture: a 400 × 400 RGBA PNG made with Pillow (red ring, star, transparent corners);
* one test CA per algorithm and a signing leaf under each (RSA-2048, ECDSA P-256, SM2), made
  with `cert_interop.x509.build_certificate`; the leaves carry a credit code, as seal holders do.

Stamping (every stamp starts from the PNG bytes and the PDF bytes and ends with the signed file
as bytes; the seal is 42 mm wide, centred on the keyword's position on the last page):

* pyhanko: `PdfSigner` + `PdfSignatureMetadata(subfilter=PADES, md_algorithm="sha256")`, a new
  visible field with `SigFieldSpec(on_page, box)` at the same rectangle, `StaticStampStyle` with
  the picture as `PdfImage` background (no border, opacity 1, stretched to the box: the style
  ours uses), no timestamp and no validation info: PAdES B-B. Two signers:
  - "stock": `signers.SimpleSigner` as shipped. It parses the private key from DER for every
    raw signature, and it also signs in the size-estimating dry run: two key loads and two
    signatures per stamp (for RSA-2048 the key load, with OpenSSL 3's key check, is ~30 ms);
  - "key kept": a small subclass that keeps the `cryptography` key object and returns
    zeros in the dry run. Ours does the same, so this is the like-for-like reference and the
    one the ratio uses.
* ours: `seal.pdf.stamp_pdf(pdf, signer=PdfSealSigner(key, cert), placement=Placement.at(-1,
  x, y), picture=png, level=Level.B_B, seal_id=...)`; also with `Placement.at_keyword("（盖章）")`
  (pages 1 to n-1 are ruled out by their fonts, which have no glyph for 盖 or 章, page n's text
  is read) and with `Placement.at_keyword("Clause n.40:")` (a Courier line of the last page:
  every page's text is read) (RSA only, the scan does not depend on the key), and with
  `paging=PagingSeal()` (slices on all pages; no pyhanko equivalent, reported absolute), and
  with the same seal as an SVG picture (drawn as a form XObject; `render_svg` keeps the last
  renderings, so this is a batch's steady state; the uncached rendering is its own row). SM2:
  ours only (pyhanko cannot sign SM2), next to the raw key operations.

Verification, of one file per algorithm: ours stamped with the seal ID of a seal record (B-B):

* pyhanko: `PdfFileReader` + `embedded_signatures[0]` + `validate_pdf_signature` with a
  `ValidationContext` that trusts the CA and has its CRL (`allow_fetching=False`, one context
  per algorithm, reused: its caches are warm, as the trust store's are);
* ours: `seal.pdf.verify_pdf` (integrity, coverage, modifications, seal ID, paging slices; no
  chain) and `seal.verification.verify_document` end to end (verify_pdf + the trust store with
  the CA and its uploaded CRL + the seal record in SQLite: active, bound to the certificate).
* RSA also on the paging-sealed file (pyhanko and verify_pdf).

For scale, the raw key operations (`cert_interop.signatures.sign/verify` over ~200 bytes, what
both sides sign: the DER signed attributes) and, for RSA, `load_der_private_key`.

Method: every measurement runs --seconds in two halves; the rows of a group (one algorithm and
operation) are measured in order and then in reverse order, so a drift in machine speed hits
all rows alike. Each row reports operations per wall second, the median time of one operation,
CPU time per operation (this process) and the cores other processes used meanwhile (/proc/stat).
Before the run and before each group the script waits (up to --quiet-wait / --quiet-step
seconds) for the CPUs to be idle. Before timing, every output is checked: both sides' stamps
validate with pyhanko and with verify_pdf, verify_document says "valid", the paging seal is on
every page. Prints the tables with the ratios ours / pyhanko and writes JSON (--json PATH,
else bench/out/seal-speed-STAMP.json). Temporary files (the SQLite database) are deleted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from asn1crypto import keys as akeys  # noqa: E402
from asn1crypto import x509 as ax509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from machine import cpu_model, git_commit  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from pyhanko.pdf_utils import layout  # noqa: E402
from pyhanko.pdf_utils.images import PdfImage  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko.stamp import StaticStampStyle  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402
from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: E402

from cert_interop import keys as keymod  # noqa: E402
from cert_interop import signatures, sm2  # noqa: E402
from cert_interop.profiles import Identity  # noqa: E402
from cert_interop.truststore import TrustStore  # noqa: E402
from cert_interop.x509 import (  # noqa: E402
    Certificate,
    build_certificate,
    build_crl,
    string_extension,
)
from config.runtime import MIGRATION_LOCATIONS  # noqa: E402
from seal.pdf import (  # noqa: E402
    Level,
    PagingSeal,
    PdfSealSigner,
    Placement,
    stamp_pdf,
    verify_pdf,
)
from seal.pdf.document import open_reader  # noqa: E402
from seal.pdf.picture import SealPicture  # noqa: E402
from seal.pdf.placement import resolve  # noqa: E402
from seal.pdf.svg import render_svg  # noqa: E402
from seal.records import service  # noqa: E402
from seal.records.directory import EntityFacts  # noqa: E402
from seal.records.making import sign_draft  # noqa: E402
from seal.verification import verify_document  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.seal.pdf.pdfs import make_pdf  # noqa: E402

KEYWORD = "（盖章）"
USCC = "91350100M000100Y43"
OID_ORG_CODE = "1.2.156.10260.4.1.4"  # GM/T 0015-2012: credit code
ENTITY = "e-bench"
ALGS = ("rsa", "ecdsa", "sm2")
ALG_NAMES = {"rsa": "RSA-2048", "ecdsa": "ECDSA P-256", "sm2": "SM2"}
SIGN_ALG = {"rsa": "rsa-pkcs1-sha256", "ecdsa": "ecdsa-sha256", "sm2": "sm2-sm3"}


# ---------------------------------------------------------------------------------------------
# the machine


def busy_seconds() -> float:
    """CPU seconds all cores have been busy (not idle, not iowait) since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def wait_quiet(limit: float, sample: float = 1.0) -> float:
    """Waits up to ``limit`` seconds for the CPUs to be idle (< 0.15 cores busy over ``sample``
    seconds); returns the last figure."""
    deadline = time.monotonic() + limit
    while True:
        before, t0 = busy_seconds(), time.monotonic()
        time.sleep(sample)
        busy = (busy_seconds() - before) / (time.monotonic() - t0)
        if busy < 0.15 or time.monotonic() >= deadline:
            return round(busy, 2)


def machine() -> dict[str, Any]:
    mem = next(
        (ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
         if ln.startswith("MemTotal:")),
        "0",
    )  # fmt: skip
    try:
        os_name = platform.freedesktop_os_release().get("PRETTY_NAME", "?")
    except OSError:
        os_name = platform.system()
    from importlib.metadata import version

    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "mem_gib": round(int(mem) / (1 << 20), 1),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pyhanko": version("pyHanko"),
        "pyhanko_certvalidator": version("pyhanko-certvalidator"),
        "cryptography": version("cryptography"),
        "pillow": version("pillow"),
        "tongsuopy": version("tongsuopy"),
        "loadavg_at_start": list(os.getloadavg()),
    }


# ---------------------------------------------------------------------------------------------
# inputs


def keygen(alg: str) -> keymod.PrivateKey:
    if alg == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if alg == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    return sm2.generate_private_key()


@dataclass
class Pki:
    """One algorithm's CA (with an empty CRL) and a seal holder's signing certificate."""

    alg: str
    ca_key: keymod.PrivateKey = field(init=False)
    ca: Certificate = field(init=False)
    crl: bytes = field(init=False)
    key: keymod.PrivateKey = field(init=False)
    leaf: Certificate = field(init=False)

    def __post_init__(self) -> None:
        now = datetime.now(UTC) - timedelta(minutes=10)
        self.ca_key = keygen(self.alg)
        self.ca = build_certificate(
            subject=[("C", "CN"), ("O", "Huren Seal Bench"), ("CN", f"Bench {self.alg} CA")],
            subject_public_key=self.ca_key.public_key(),
            issuer_key=self.ca_key,
            not_before=now,
            not_after=now + timedelta(days=3650),
            ca=True,
            key_usage={"key_cert_sign", "crl_sign"},
        )
        self.crl = build_crl(
            issuer=self.ca,
            issuer_key=self.ca_key,
            this_update=now,
            next_update=now + timedelta(days=7),
        ).der
        self.key = keygen(self.alg)
        self.leaf = build_certificate(
            subject=[("C", "CN"), ("O", "测试投标有限公司"), ("CN", "测试投标有限公司")],
            subject_public_key=self.key.public_key(),
            issuer_key=self.ca_key,
            issuer=self.ca,
            not_before=now,
            not_after=now + timedelta(days=365),
            ca=False,
            key_usage={"digital_signature", "non_repudiation"},
            extra_extensions=[string_extension(OID_ORG_CODE, USCC)],
        )


def seal_png(side: int = 400) -> bytes:
    """A red round seal on a transparent background, as a PNG."""
    img = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    red = (220, 20, 30, 255)
    d.ellipse((8, 8, side - 8, side - 8), outline=red, width=side // 25)
    c, r = side / 2, side * 0.16
    star = [
        (c + (r if k % 2 == 0 else r * 0.4) * math.sin(k * math.pi / 5),
         c - (r if k % 2 == 0 else r * 0.4) * math.cos(k * math.pi / 5))
        for k in range(10)
    ]  # fmt: skip
    d.polygon(star, fill=red)
    for k in range(14):  # stand-ins for the characters around the rim
        a = math.pi * (0.8 + 1.4 * k / 13)
        x, y = c + side * 0.36 * math.cos(a), c + side * 0.36 * math.sin(a)
        d.rectangle((x - 9, y - 9, x + 9, y + 9), fill=red)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def seal_svg() -> bytes:
    """The same seal as vector graphics: ring, star and 14 outlined "characters" as paths."""
    c, r = 200, 64
    star = " ".join(
        f"{c + (r if k % 2 == 0 else r * 0.4) * math.sin(k * math.pi / 5):.2f},"
        f"{c - (r if k % 2 == 0 else r * 0.4) * math.cos(k * math.pi / 5):.2f}"
        for k in range(10)
    )
    glyphs = []
    for k in range(14):
        a = math.pi * (0.8 + 1.4 * k / 13)
        x, y = c + 144 * math.cos(a), c + 144 * math.sin(a)
        glyphs.append(
            f'<path d="M{x - 9:.2f} {y - 9:.2f} h18 v18 h-18 z M{x - 4:.2f} {y - 4:.2f} '
            f'h8 v8 h-8 z" fill-rule="evenodd"/>'
        )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="42mm" height="42mm" '
        'viewBox="0 0 400 400"><g fill="#dc141e">'
        '<circle cx="200" cy="200" r="184" fill="none" stroke="#dc141e" stroke-width="16"/>'
        f'<polygon points="{star}"/>{"".join(glyphs)}</g></svg>'
    ).encode()


def latin_keyword(pages: int) -> str:
    """A keyword on the last page that every page's font could show: all pages' text is read."""
    return f"Clause {pages}.40:"


def document(pages: int) -> bytes:
    lines = {
        i: [
            (72.0, 770.0 - 16.0 * k, f"Clause {i + 1}.{k + 1}: the bidder undertakes to perform "
             "the contract as tendered.")
            for k in range(40)
        ]
        for i in range(pages)
    }  # fmt: skip
    return make_pdf(pages, lines=lines, cjk_page=pages - 1)


@dataclass
class Directory:
    """Market entities as the identity provider would answer for them (one verified entity)."""

    def entity(self, entity_id: str) -> EntityFacts | None:
        if entity_id != ENTITY:
            return None
        return EntityFacts(ENTITY, "legal_person", "测试投标有限公司", "verified")

    def holds(self, entity_id: str, identity: Identity | None) -> bool:
        return entity_id == ENTITY and identity is not None and identity.credit_code == USCC


@dataclass
class KeyMaker:
    """The seal-making authority's key (here the SM2 CA's)."""

    key: keymod.PrivateKey
    certificate: Certificate
    name: str = "seal-maker"

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        return signatures.sign(self.key, algorithm, data=data, digest=digest)


# ---------------------------------------------------------------------------------------------
# pyhanko, bare


class KeptKeySigner(signers.SimpleSigner):
    """`SimpleSigner` that keeps the key object and does not sign in the dry run (as ours)."""

    def __init__(self, key: Any, cert: ax509.Certificate, pkinfo: akeys.PrivateKeyInfo) -> None:
        super().__init__(cert, pkinfo, SimpleCertificateStore())
        self._key = key
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        self._algorithm = SIGN_ALG["rsa" if is_rsa else "ecdsa"]
        self._dummy = key.key_size // 8 if is_rsa else 72  # the largest DER P-256 signature

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return bytes(self._dummy)
        return signatures.sign(self._key, self._algorithm, data=data)


def pyhanko_signers(pki: Pki) -> tuple[signers.Signer, signers.Signer]:
    cert = ax509.Certificate.load(pki.leaf.der)
    pkinfo = akeys.PrivateKeyInfo.load(
        pki.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    stock = signers.SimpleSigner(cert, pkinfo, SimpleCertificateStore())
    return stock, KeptKeySigner(pki.key, cert, pkinfo)


def pyhanko_stamp(
    pdf: bytes, signer: signers.Signer, png: bytes, page_index: int, rect: tuple[float, ...]
) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    style = StaticStampStyle(
        background=PdfImage(Image.open(io.BytesIO(png))),
        border_width=0,
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(0, 0, 0, 0),
            inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
        ),
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES
    )
    spec = SigFieldSpec("Signature1", on_page=page_index, box=rect)  # type: ignore[arg-type]
    out = signers.PdfSigner(meta, signer, stamp_style=style, new_field_spec=spec).sign_pdf(writer)
    return bytes(out.getvalue())


def pyhanko_context(pki: Pki) -> ValidationContext:
    return ValidationContext(
        trust_roots=[ax509.Certificate.load(pki.ca.der)],
        crls=[pki.crl],
        allow_fetching=False,
        revocation_mode="hard-fail",
    )


def pyhanko_verify(pdf: bytes, vc: ValidationContext) -> Any:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return validate_pdf_signature(reader.embedded_signatures[0], vc)


# ---------------------------------------------------------------------------------------------
# measuring


@dataclass
class Acc:
    n: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    busy: float = 0.0
    times: list[float] = field(default_factory=list)


def run_for(fn: Callable[[], object], budget: float, acc: Acc) -> None:
    gc.collect()
    busy0, cpu0, start = busy_seconds(), time.process_time(), time.perf_counter()
    while True:
        t = time.perf_counter()
        fn()
        now = time.perf_counter()
        acc.times.append(now - t)
        acc.n += 1
        if now - start >= budget:
            break
    acc.wall += time.perf_counter() - start
    acc.cpu += time.process_time() - cpu0
    acc.busy += busy_seconds() - busy0


def measure(
    group: str, rows: list[tuple[str, str, Callable[[], object]]], seconds: float, quiet: float
) -> list[dict[str, Any]]:
    """``rows`` = (key, label, fn); forward then reverse, ``seconds`` / 2 each way."""
    busy_before = wait_quiet(quiet) if quiet > 0 else None
    load = list(os.getloadavg())
    print(f"  {group} …", file=sys.stderr, flush=True)
    accs = {key: Acc() for key, _, _ in rows}
    for fn in (fn for _, _, fn in rows):
        fn()  # warm-up (imports, caches)
    for order in (rows, rows[::-1]):
        for key, _, fn in order:
            run_for(fn, seconds / 2, accs[key])
    out = []
    for key, label, _ in rows:
        a = accs[key]
        out.append(
            {
                "group": group,
                "key": key,
                "label": label,
                "ops": a.n,
                "seconds": round(a.wall, 3),
                "per_s": round(a.n / a.wall, 2),
                "median_ms": round(statistics.median(a.times) * 1000, 3),
                "cpu_ms_per_op": round(a.cpu / a.n * 1000, 3),
                "per_cpu_s": round(a.n / a.cpu, 2) if a.cpu > 0 else None,
                "others_cores": round(max(a.busy - a.cpu, 0.0) / a.wall, 2),
                "cpu_busy_before": busy_before,
                "loadavg_before": [round(x, 2) for x in load],
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# the run


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"check failed: {what}")


def _run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    meta: dict[str, Any] = {"machine": machine(), "commit": git_commit()}
    meta["cpu_busy_before_run"] = wait_quiet(args.quiet_wait)
    print(f"CPU busy before the run: {meta['cpu_busy_before_run']} cores", file=sys.stderr)
    print("making the PKIs, the picture, the document and the seal records …", file=sys.stderr)
    pkis = {alg: Pki(alg) for alg in ALGS}
    png = seal_png()
    pdf = document(args.pages)
    picture = SealPicture.load(png)
    box = resolve(Placement.at_keyword(KEYWORD), open_reader(pdf), picture.aspect)
    x0, y0, x1, y1 = box.rect
    at = Placement.at(-1, (x0 + x1) / 2, (y0 + y1) / 2)
    check(resolve(at, open_reader(pdf), picture.aspect) == box, "Placement.at gives the same box")
    check(box.page_index == args.pages - 1, "the keyword is on the last page")
    latin = resolve(Placement.at_keyword(latin_keyword(args.pages)), open_reader(pdf), 1.0)
    check(latin.page_index == args.pages - 1, "the Latin keyword is on the last page")

    url = f"sqlite:///{tmp / 'huren.db'}"
    upgrade(url, list(MIGRATION_LOCATIONS))
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        store = TrustStore(sessions)
        for alg, p in pkis.items():
            store.add(p.ca.pem(), profile="default", name=f"Bench {alg} CA")
            store.upload_crl(p.crl)
        seal_ids = {
            alg: service.make(
                sessions,
                Directory(),
                store,
                KeyMaker(pkis["sm2"].ca_key, pkis["sm2"].ca),
                sign_draft,
                service.SealRequest(
                    entity_id=ENTITY,
                    seal_type="contract",
                    name="测试投标有限公司合同专用章",
                    picture=png,
                    certificates=[p.leaf],
                ),
                actor="bench",
                activate=True,
            ).id
            for alg, p in pkis.items()
        }
        return _measure_all(args, meta, pkis, png, pdf, box, at, sessions, store, seal_ids)
    finally:
        engine.dispose()


def _measure_all(
    args: argparse.Namespace,
    meta: dict[str, Any],
    pkis: dict[str, Pki],
    png: bytes,
    pdf: bytes,
    box: Any,
    at: Placement,
    sessions: Any,
    store: TrustStore,
    seal_ids: dict[str, str],
) -> dict[str, Any]:
    secs, quiet = args.seconds, args.quiet_step
    rows: list[dict[str, Any]] = []
    sizes: dict[str, int] = {}
    ours_signers = {alg: PdfSealSigner(p.key, p.leaf) for alg, p in pkis.items()}

    def ours(alg: str, **kw: Any) -> Callable[[], bytes]:
        def fn() -> bytes:
            return stamp_pdf(
                pdf,
                signer=ours_signers[alg],
                placement=kw.get("placement", at),
                picture=kw.get("picture", png),
                level=Level.B_B,
                paging=kw.get("paging"),
                seal_id=seal_ids[alg],
            )

        return fn

    svg = seal_svg()
    check(verify_pdf(ours("rsa", picture=svg)()).all_ok, "rsa: an SVG seal verifies")

    # checks, and the files to verify
    stamped: dict[str, bytes] = {}
    paged: dict[str, bytes] = {}
    contexts: dict[str, ValidationContext] = {}
    hanko: dict[str, tuple[signers.Signer, signers.Signer]] = {}
    for alg, p in pkis.items():
        stamped[alg] = ours(alg)()
        paged[alg] = ours(alg, paging=PagingSeal())()
        sizes[f"{alg}_input"] = len(pdf)
        sizes[f"{alg}_ours"] = len(stamped[alg])
        sizes[f"{alg}_ours_paging"] = len(paged[alg])
        report = verify_pdf(stamped[alg])
        sig = report.signatures[0]
        check(sig.intact and sig.modified_after_signing is False, f"{alg}: verify_pdf on ours")
        check(sig.seal_id == seal_ids[alg], f"{alg}: the seal ID")
        pages = verify_pdf(paged[alg]).signatures[0].paging_seal_pages
        check(pages == tuple(range(1, args.pages + 1)), f"{alg}: the paging seal on every page")
        verdict = verify_document(stamped[alg], sessions, store)
        check(verdict.verdict == "valid", f"{alg}: verify_document says {verdict.as_dict()}")
        if alg == "sm2":
            continue
        contexts[alg] = pyhanko_context(p)
        check(pyhanko_verify(stamped[alg], contexts[alg]).bottom_line, f"{alg}: pyhanko on ours")
        check(pyhanko_verify(paged[alg], contexts[alg]).bottom_line, f"{alg}: pyhanko on paging")
        hanko[alg] = pyhanko_signers(p)
        for who, signer in zip(("stock", "kept"), hanko[alg], strict=True):
            theirs = pyhanko_stamp(pdf, signer, png, box.page_index, box.rect)
            sizes[f"{alg}_pyhanko_{who}"] = len(theirs)
            check(pyhanko_verify(theirs, contexts[alg]).bottom_line, f"{alg}: pyhanko {who}")
            s = verify_pdf(theirs).signatures[0]
            check(s.intact and s.modified_after_signing is False, f"{alg}: ours on pyhanko's")

    print("measuring …", file=sys.stderr, flush=True)
    raw = max(1.0, secs / 2)
    attrs = bytes(range(200))  # about the size of the DER signed attributes both sides sign
    key_rows: list[tuple[str, str, Callable[[], object]]] = []
    for alg, p in pkis.items():
        sig = signatures.sign(p.key, SIGN_ALG[alg], data=attrs)
        pub = p.leaf.public_key
        key_rows.append(
            (f"{alg}_sign", f"{ALG_NAMES[alg]} sign ({SIGN_ALG[alg]})",
             lambda p=p, a=alg: signatures.sign(p.key, SIGN_ALG[a], data=attrs))
        )  # fmt: skip
        key_rows.append(
            (f"{alg}_verify", f"{ALG_NAMES[alg]} verify",
             lambda pub=pub, a=alg, s=sig: signatures.verify(pub, SIGN_ALG[a], s, data=attrs))
        )  # fmt: skip
    rsa_der = pkis["rsa"].key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_rows.append(
        ("rsa_key_load", "RSA-2048 load_der_private_key (SimpleSigner, per signature)",
         lambda: serialization.load_der_private_key(rsa_der, None))
    )  # fmt: skip
    rows += measure("key operations", key_rows, raw, quiet)

    for alg in ALGS:
        group: list[tuple[str, str, Callable[[], object]]] = []
        if alg != "sm2":
            stock, kept = hanko[alg]
            group += [
                ("pyhanko_stock", "pyhanko PdfSigner, SimpleSigner (stock)",
                 lambda s=stock: pyhanko_stamp(pdf, s, png, box.page_index, box.rect)),
                ("pyhanko", "pyhanko PdfSigner, key kept",
                 lambda s=kept: pyhanko_stamp(pdf, s, png, box.page_index, box.rect)),
            ]  # fmt: skip
        group.append(("ours", "ours stamp_pdf, Placement.at", ours(alg)))
        if alg == "rsa":
            group.append(
                ("ours_keyword", "ours stamp_pdf, Placement.at_keyword",
                 ours(alg, placement=Placement.at_keyword(KEYWORD)))
            )  # fmt: skip
            group.append(
                ("ours_keyword_text", "ours stamp_pdf, at_keyword (all pages' text)",
                 ours(alg, placement=Placement.at_keyword(latin_keyword(args.pages))))
            )  # fmt: skip
        group.append(("ours_paging", "ours stamp_pdf, Placement.at + PagingSeal()",
                      ours(alg, paging=PagingSeal())))  # fmt: skip
        if alg == "rsa":
            group.append(
                ("ours_svg", "ours stamp_pdf, SVG picture (rendering cached)",
                 ours(alg, picture=svg))
            )  # fmt: skip
            group.append(
                ("svg_render", "SVG check + render to a PDF page (uncached, per seal)",
                 lambda: render_svg.__wrapped__(svg))
            )  # fmt: skip
        rows += measure(f"stamp {alg}", group, secs, quiet)

    for alg in ALGS:
        doc = stamped[alg]
        group = []
        if alg != "sm2":
            vc = contexts[alg]
            group.append(
                ("pyhanko", "pyhanko validate_pdf_signature (CA + CRL)",
                 lambda d=doc, vc=vc: pyhanko_verify(d, vc))
            )  # fmt: skip
        group += [
            ("verify_pdf", "ours verify_pdf", lambda d=doc: verify_pdf(d)),
            ("verify_document", "ours verify_document (trust store + seal record)",
             lambda d=doc: verify_document(d, sessions, store)),
        ]  # fmt: skip
        if alg == "rsa":
            group += [
                ("pyhanko_paging", "pyhanko validate_pdf_signature, paging-sealed file",
                 lambda d=paged[alg], vc=contexts[alg]: pyhanko_verify(d, vc)),
                ("verify_pdf_paging", "ours verify_pdf, paging-sealed file",
                 lambda d=paged[alg]: verify_pdf(d)),
            ]  # fmt: skip
        rows += measure(f"verify {alg}", group, secs, quiet)

    ratios = _ratios(rows)
    return {"rows": rows, "ratios": ratios, "sizes": sizes, "meta": meta}


def _find(rows: list[dict[str, Any]], group: str, key: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["group"] == group and r["key"] == key), None)


def _ratios(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for alg in ("rsa", "ecdsa"):
        st, ve = f"stamp {alg}", f"verify {alg}"
        ref = _find(rows, st, "pyhanko")
        stock = _find(rows, st, "pyhanko_stock")
        vref = _find(rows, ve, "pyhanko")
        assert ref and stock and vref
        for key in ("ours", "ours_keyword", "ours_keyword_text", "ours_paging", "ours_svg"):
            r = _find(rows, st, key)
            if r:
                out[f"{alg}_{key}_over_pyhanko"] = round(r["per_s"] / ref["per_s"], 2)
                out[f"{alg}_{key}_over_pyhanko_stock"] = round(r["per_s"] / stock["per_s"], 2)
        for key in ("verify_pdf", "verify_document"):
            r = _find(rows, ve, key)
            assert r
            out[f"{alg}_{key}_over_pyhanko"] = round(r["per_s"] / vref["per_s"], 2)
        if alg == "rsa":
            a, b = _find(rows, ve, "verify_pdf_paging"), _find(rows, ve, "pyhanko_paging")
            assert a and b
            out["rsa_verify_pdf_paging_over_pyhanko_paging"] = round(a["per_s"] / b["per_s"], 2)
    sign = _find(rows, "key operations", "sm2_sign")
    verify = _find(rows, "key operations", "sm2_verify")
    stamp = _find(rows, "stamp sm2", "ours")
    vpdf = _find(rows, "verify sm2", "verify_pdf")
    assert sign and verify and stamp and vpdf
    out["sm2_ours_stamp_ms_minus_sign_ms"] = round(1000 / stamp["per_s"] - 1000 / sign["per_s"], 3)
    out["sm2_verify_pdf_ms_minus_verify_ms"] = round(
        1000 / vpdf["per_s"] - 1000 / verify["per_s"], 3
    )
    return out


def print_table(result: dict[str, Any]) -> None:
    rows = result["rows"]
    print()
    print(
        f"{result['pages']}-page PDF ({result['sizes']['rsa_input']:,} bytes), PAdES B-B, "
        f"{result['seconds']} s per row; × pyhanko = ours / pyhanko with the key kept "
        "(stock SimpleSigner in brackets)"
    )
    head = f"{'':62}{'per s':>9}{'median ms':>11}{'CPU ms':>9}{'others':>8}{'× pyhanko':>16}"
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            print()
            print(group)
            print(head)
        ratio = ""
        alg = group.split()[-1]
        if group.startswith("stamp") and alg != "sm2" and r["key"].startswith("ours"):
            ref = _find(rows, group, "pyhanko")
            stock = _find(rows, group, "pyhanko_stock")
            assert ref and stock
            ratio = f"{r['per_s'] / ref['per_s']:.2f} ({r['per_s'] / stock['per_s']:.2f})"
        elif group.startswith("verify") and alg != "sm2" and r["key"].startswith("verify"):
            ref = _find(rows, group, "pyhanko_paging" if "paging" in r["key"] else "pyhanko")
            assert ref
            ratio = f"{r['per_s'] / ref['per_s']:.2f}"
        print(
            f"  {r['label']:60}{r['per_s']:9.1f}{r['median_ms']:11.2f}{r['cpu_ms_per_op']:9.2f}"
            f"{r['others_cores']:8.2f}{ratio:>16}"
        )
    z = result["sizes"]
    print()
    print(
        "file sizes (bytes): input {:,}; RSA ours {:,}, pyhanko {:,}, ours + paging {:,}; "
        "ECDSA ours {:,}, pyhanko {:,}; SM2 ours {:,}".format(
            z["rsa_input"], z["rsa_ours"], z["rsa_pyhanko_kept"], z["rsa_ours_paging"],
            z["ecdsa_ours"], z["ecdsa_pyhanko_kept"], z["sm2_ours"],
        )
    )  # fmt: skip
    print("per s = operations per wall second; CPU ms = this process's CPU time per operation;")
    print("others = cores other processes used during the row")
    busy = max(r["others_cores"] for r in rows)
    if busy > 0.1:
        print(f"WARNING: other processes used up to {busy:.2f} cores during a row")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement [5]")
    parser.add_argument("--pages", type=int, default=20, help="pages of the document [20]")
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.add_argument(
        "--quiet-wait", type=float, default=15, help="seconds to wait for an idle CPU first [15]"
    )
    parser.add_argument(
        "--quiet-step", type=float, default=4, help="and before each group (0: do not wait) [4]"
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.pages < 2:
        parser.error("--seconds must be positive and --pages at least 2 (the paging seal)")
    started = dt.datetime.now(dt.UTC)
    tmp = Path(tempfile.mkdtemp(prefix="huren-seal-bench."))
    try:
        result = _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "benchmark": "seal_speed",
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "pages": args.pages,
        "seconds": args.seconds,
        **result,
    }
    print_table(result)
    path = args.json or OUT / f"seal-speed-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
