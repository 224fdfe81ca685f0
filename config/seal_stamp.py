"""`huren seal stamp` and `huren seal batch`: stamp PDFs with a seal, the key on a token.

They live in the composition root because they join three packages: the seal records (is the
seal active, which certificates may use it), the token drivers (`pkcs11:` / `file:` keys, PINs,
as `huren bid` opens them) and the trust store (chain and CRLs for B-LT). Errors are one line on
stderr and exit status 2, as for `huren bid`; nothing is written unless the stamp succeeded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from cert_interop.cli_errors import UserError
from cert_interop.cli_io import output_file, read_small
from cert_interop.errors import CertInteropError
from drivers.errors import TokenError
from seal.cli import seal_group
from seal.errors import SealError
from seal.pdf import Level, PagingSeal, PdfSealSigner, Placement, stamp_pdf
from seal.records import service
from seal.records.service import SealView
from seal.verification import bound_certificate

from .bid_cli import _key, _stdin_pin
from .runtime import Runtime

MAX_PDF_BYTES = 64 * 1024 * 1024
LEVELS = {level.value: level for level in Level}


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@dataclass(frozen=True)
class StampOptions:
    placement: Placement
    paging: PagingSeal | None
    level: Level
    reason: str | None
    location: str | None


def _usable_seal(rt: Runtime, seal_id: str) -> SealView:
    seal = service.get(rt.sessions, seal_id.strip(), with_history=False)
    if not seal.usable():
        state = seal.status if seal.status != "active" else "outside its validity period"
        raise UserError(
            f"seal_not_usable: seal {seal.id} is {state}"
            f"{' (' + seal.status_reason + ')' if seal.status_reason else ''}"
            "（印章不可用：未启用、已暂停、已吊销或不在有效期内）"
        )
    return seal


def _stamp_one(
    rt: Runtime,
    seal: SealView,
    key: Any,
    opts: StampOptions,
    source: str,
    target: str,
) -> dict[str, Any]:
    data = read_small(source, "PDF", MAX_PDF_BYTES)
    picture, _kind = service.picture(rt.sessions, seal.id)
    signer = PdfSealSigner(key, key.certificate)
    signed = stamp_pdf(
        data,
        signer=signer,
        placement=opts.placement,
        picture=picture,
        level=opts.level,
        timestamper=rt.seal_resources.timestamper(opts.level),
        revocation=rt.seal_resources.revocation(key.certificate, opts.level),
        paging=opts.paging,
        seal_id=seal.id,
        reason=opts.reason,
        location=opts.location,
        max_pdf_bytes=MAX_PDF_BYTES,
    )
    with output_file(target) as fh:
        fh.write(signed)
    return {"in": source, "out": target, "status": "stamped", "bytes": len(signed)}


def _options(
    *,
    page: int | None,
    x: float | None,
    y: float | None,
    keyword: str | None,
    size_mm: float | None,
    paging: bool,
    level: str,
    reason: str | None,
    location: str | None,
    seal: SealView,
) -> StampOptions:
    size = size_mm or float(seal.width_mm)
    if keyword is not None and (x is not None or y is not None):
        raise UserError("give either --keyword or --x/--y, not both")
    if keyword is not None:
        placement = Placement.at_keyword(keyword, page=page, size_mm=size)
    elif x is not None and y is not None:
        placement = Placement.at(page if page is not None else -1, x, y, size_mm=size)
    elif x is None and y is None:
        raise UserError("say where the seal goes: --page P --x X --y Y, or --keyword TEXT")
    else:
        raise UserError("--x and --y go together")
    return StampOptions(
        placement=placement,
        paging=PagingSeal(size_mm=size) if paging else None,
        level=LEVELS[level],
        reason=reason,
        location=location,
    )


def _guarded(work: Callable[[], None]) -> None:
    try:
        work()
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("error: 已中断 / interrupted", err=True)
        sys.exit(130)
    except SealError as exc:
        _fail(f"{exc.code}: {exc.message_zh} / {exc}")
    except TokenError as exc:
        _fail(f"{exc.message_zh} / {exc.message}")
    except (UserError, CertInteropError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}")


def _placement_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--page", type=int, help="1-based page; -1 the last (default)"),
            click.option("--x", type=float, help="centre of the seal, points from the left"),
            click.option("--y", type=float, help="centre of the seal, points from the bottom"),
            click.option("--keyword", help="centre the seal on this text (e.g. 盖章处)"),
            click.option("--size-mm", type=float, help="displayed width (default: the seal's)"),
            click.option("--paging", is_flag=True, help="also a paging seal (骑缝章)"),
            click.option(
                "--level",
                type=click.Choice(sorted(LEVELS)),
                default="B-B",
                show_default=True,
                help="PAdES level: B-T adds a timestamp, B-LT revocation data",
            ),
            click.option("--reason", help="the signature's reason (e.g. 投标文件签章)"),
            click.option("--location", help="the signature's location"),
            click.option("--pin-stdin", is_flag=True, help="read the PIN from stdin's first line"),
        ]
    ):
        fn = option(fn)
    return fn


@seal_group.command("stamp")
@click.option("--seal", "seal_id", required=True, help="the seal code")
@click.option("--key", "key_uri", required=True, help="pkcs11:… or file:… (as in huren bid)")
@click.option("--in", "source", required=True, type=click.Path(dir_okay=False))
@click.option("--out", "target", required=True, type=click.Path(dir_okay=False))
@_placement_options
@click.option("--json", "as_json", is_flag=True)
def seal_stamp(
    seal_id: str,
    key_uri: str,
    source: str,
    target: str,
    as_json: bool,
    **placement: Any,
) -> None:
    """Stamp one PDF with an active seal, signing with a key bound to the seal."""
    _batch(seal_id, key_uri, [(source, target)], as_json=as_json, report=None, **placement)


@seal_group.command("batch")
@click.option("--seal", "seal_id", required=True, help="the seal code")
@click.option("--key", "key_uri", required=True, help="pkcs11:… or file:…")
@click.option(
    "--out-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="stamped files go here under their own names",
)
@click.option("--report", type=click.Path(dir_okay=False), help="JSON Lines, one line per file")
@_placement_options
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def seal_batch(
    seal_id: str,
    key_uri: str,
    out_dir: Path,
    report: str | None,
    files: Sequence[str],
    **placement: Any,
) -> None:
    """Stamp many PDFs with one seal (the PIN is asked once); a report line per file. Exit 0
    when all were stamped, 1 when some failed (the others are kept), 2 when none could start."""
    if not out_dir.is_dir():
        _fail(f"--out-dir {out_dir} is not a directory")
    pairs = [(f, str(out_dir / Path(f).name)) for f in files]
    if len({t for _, t in pairs}) != len(pairs):
        _fail("two input files have the same name; they would overwrite each other in --out-dir")
    _batch(seal_id, key_uri, pairs, as_json=False, report=report, **placement)


def _batch(
    seal_id: str,
    key_uri: str,
    pairs: Sequence[tuple[str, str]],
    *,
    as_json: bool,
    report: str | None,
    pin_stdin: bool,
    **placement: Any,
) -> None:
    rt: Runtime = click.get_current_context().find_root().obj
    single = report is None and len(pairs) == 1 and not as_json
    results: list[dict[str, Any]] = []

    def work() -> None:
        seal = _usable_seal(rt, seal_id)
        opts = _options(seal=seal, **placement)
        pin = _stdin_pin(pairs[0][0]) if pin_stdin else None
        with _key(key_uri, "sign", pin, prefer=lambda c: bound_certificate(seal, c)) as key:
            if not bound_certificate(seal, key.certificate):
                raise UserError(
                    f"signer_not_bound: the key's certificate ({key.certificate.subject.rfc4514}) "
                    f"is not bound to seal {seal.id}（该证书未绑定到此印章）"
                )
            if single:
                results.append(_stamp_one(rt, seal, key, opts, *pairs[0]))
                return
            with click.progressbar(
                pairs, label="stamping / 签章", file=sys.stderr, show_pos=True
            ) as bar:
                for source, target in bar:
                    try:
                        results.append(_stamp_one(rt, seal, key, opts, source, target))
                    except (SealError, UserError, CertInteropError, OSError) as exc:
                        code = getattr(exc, "code", "failed")
                        results.append(
                            {
                                "in": source,
                                "out": None,
                                "status": "failed",
                                "error": code,
                                "detail": str(exc),
                            }
                        )

    _guarded(work)
    if report is not None:
        with output_file(report) as fh:
            for line in results:
                fh.write((json.dumps(line, ensure_ascii=False) + "\n").encode())
    if as_json:
        click.echo(json.dumps(results[0] if len(results) == 1 else results, ensure_ascii=False))
    elif single:
        click.echo(f"stamped {pairs[0][0]} -> {pairs[0][1]} with seal {seal_id}")
    else:
        ok = sum(1 for r in results if r["status"] == "stamped")
        click.echo(f"{ok} of {len(results)} stamped", err=True)
        if ok < len(results):
            sys.exit(1)
