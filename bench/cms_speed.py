"""CMS throughput on one large file: Huren's cert_interop.cms against `openssl cms`, in one run.

    .venv/bin/python bench/cms_speed.py [--size-mb 200] [--repeat 3] [--keep DIR]

What each side does, so that the figures compare like with like (one file of --size-mb MiB of
random bytes in a temporary directory; every output goes to a file there):

* openssl (RSA-2048 + AES-256-CBC; OpenSSL 3.0's `cms` cannot do SM2):
  sign    `openssl cms -sign -binary -stream -nodetach -signer leaf.pem -inkey leaf.key
           -outform DER` (BER, indefinite lengths, one pass)
  verify  `openssl cms -verify -binary -stream -noverify -inform DER -out F` (signature and
           content digest; -noverify skips the chain, which Huren's verify leaves to the caller)
  encrypt `openssl cms -encrypt -binary -stream -aes-256-cbc -outform DER leaf.pem`
  decrypt `openssl cms -decrypt -binary -stream -inform DER -inkey leaf.key -recip leaf.pem`
* Huren library, in this process: `cms.sign` from the open file (seekable: DER with definite
  lengths, so the file is read twice, once to digest and once to copy) and from a non-seekable
  stream over the same file (BER, one pass, like openssl -stream); `cms.verify(f, out=F)`;
  `cms.encrypt(f, out, [cert], cipher="aes-256-cbc")` (RSA-OAEP key transport; one RSA
  operation either way); `cms.decrypt(f, out, certificate=, key=)`.
* Huren CLI: `huren crypto cms sign|verify|encrypt|decrypt --in F --out G` as a subprocess, the
  Python start-up included; peak RSS of each process (wait4) next to openssl's.
* SM2 + SM3 and SM4-CBC (GM/T 0010): the library and the CLI; for scale, the raw primitives over
  the same file with `openssl dgst -sm3` and `openssl enc -sm4-cbc` (no CMS around them).

Each operation runs --repeat times, the sides alternating; the median is reported. MB/s is MiB of
content per second. Before timing, the outputs are cross-checked: openssl verifies Huren's
signature and decrypts Huren's envelope, Huren verifies and decrypts openssl's.
Prints a table with ratios Huren / openssl and writes bench/out/cms-speed-*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from machine import cpu_model, git_commit  # noqa: E402

from cert_interop import cms, keys  # noqa: E402
from cert_interop.pki_cli import write_hierarchy  # noqa: E402
from cert_interop.x509 import Certificate, parse_certificate  # noqa: E402

MIB = 1 << 20


class _Stream(io.RawIOBase):
    """A non-seekable view of a file, so `cms.sign` takes its one-pass BER path."""

    def __init__(self, fh: io.BufferedReader) -> None:
        self._fh = fh

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        return self._fh.readinto(buf)


def _peak_rss(pid: int, stop: threading.Event, out: list[int]) -> None:
    """Poll VmHWM (the high-water mark of the process's own memory since exec). Not
    ru_maxrss from wait4: that counts the Python parent's pages the child had before exec."""
    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    out[0] = max(out[0], int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            pass
        stop.wait(0.01)


def run_process(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command, which must succeed."""
    peak = [0]
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watcher = threading.Thread(target=_peak_rss, args=(proc.pid, stop, peak), daemon=True)
    watcher.start()
    _out, err = proc.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    if proc.returncode != 0:
        text = err.decode(errors="replace").strip()[:500]
        raise SystemExit(f"`{' '.join(cmd)}` failed ({proc.returncode}): {text}")
    return seconds, peak[0]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(MIB):
            h.update(block)
    return h.hexdigest()


def make_input(path: Path, size_mb: int) -> None:
    with open(path, "wb") as fh:
        for _ in range(size_mb):
            fh.write(os.urandom(MIB))


class Party:
    def __init__(self, out: Path, alg: str) -> None:
        write_hierarchy(out, alg=alg, dual=alg == "sm2", force=True)
        enc = "leaf-enc" if alg == "sm2" else "leaf"
        self.key_path = out / "leaf.key"
        self.cert_path = out / "leaf.pem"
        self.enc_key_path = out / f"{enc}.key"
        self.enc_cert_path = out / f"{enc}.pem"
        self.key = keys.load_private_key(self.key_path.read_bytes())
        self.enc_key = keys.load_private_key(self.enc_key_path.read_bytes())
        self.cert: Certificate = parse_certificate(self.cert_path.read_bytes())
        self.enc_cert: Certificate = parse_certificate(self.enc_cert_path.read_bytes())


def huren_cli() -> list[str]:
    exe = Path(sys.executable).with_name("huren")
    if exe.exists():
        return [str(exe), "crypto"]
    return [sys.executable, "-m", "cert_interop.cli"]


def library_ops(p: Party, data: Path, work: Path, cipher: str) -> dict[str, Callable[[], Any]]:
    signed, env, plain, content = (work / f"lib.{x}" for x in ("p7s", "p7m", "out", "content"))

    def sign_file() -> None:
        with open(data, "rb") as src, open(signed, "wb") as dst:
            cms.sign(src, dst, [(p.key, p.cert)])

    def sign_stream() -> None:
        with open(data, "rb") as src, open(signed, "wb") as dst:
            cms.sign(_Stream(src), dst, [(p.key, p.cert)])

    def verify() -> None:
        with open(signed, "rb") as src, open(content, "wb") as dst:
            if not cms.verify(src, out=dst).valid:
                raise SystemExit("Huren could not verify its own signature")

    def encrypt() -> None:
        with open(data, "rb") as src, open(env, "wb") as dst:
            cms.encrypt(src, dst, [p.enc_cert], cipher=cipher)

    def decrypt() -> None:
        with open(env, "rb") as src, open(plain, "wb") as dst:
            cms.decrypt(src, dst, certificate=p.enc_cert, key=p.enc_key)

    return {
        "sign (stream, BER)": sign_stream,
        "sign (file, DER)": sign_file,
        "verify": verify,
        "encrypt": encrypt,
        "decrypt": decrypt,
    }


def cli_ops(p: Party, data: Path, work: Path, cipher: str) -> dict[str, list[str]]:
    h = huren_cli()
    signed, env, plain, content = (work / f"cli.{x}" for x in ("p7s", "p7m", "out", "content"))
    return {
        "sign (file, DER)": [*h, "cms", "sign", "--key", str(p.key_path), "--cert",
                             str(p.cert_path), "--in", str(data), "--out", str(signed)],
        "verify": [*h, "cms", "verify", "--in", str(signed), "--out", str(content)],
        "encrypt": [*h, "cms", "encrypt", "--recipient", str(p.enc_cert_path), "--cipher", cipher,
                    "--in", str(data), "--out", str(env)],
        "decrypt": [*h, "cms", "decrypt", "--key", str(p.enc_key_path), "--cert",
                    str(p.enc_cert_path), "--in", str(env), "--out", str(plain)],
    }  # fmt: skip


def openssl_ops(p: Party, data: Path, work: Path) -> dict[str, list[str]]:
    signed, env, plain, content = (work / f"ossl.{x}" for x in ("p7s", "p7m", "out", "content"))
    o = "openssl"
    return {
        "sign": [o, "cms", "-sign", "-binary", "-stream", "-nodetach", "-in", str(data),
                 "-signer", str(p.cert_path), "-inkey", str(p.key_path), "-outform", "DER",
                 "-out", str(signed)],
        "verify": [o, "cms", "-verify", "-binary", "-stream", "-noverify", "-inform", "DER",
                   "-in", str(signed), "-out", str(content)],
        "encrypt": [o, "cms", "-encrypt", "-binary", "-stream", "-aes-256-cbc", "-in", str(data),
                    "-outform", "DER", "-out", str(env), str(p.enc_cert_path)],
        "decrypt": [o, "cms", "-decrypt", "-binary", "-stream", "-inform", "DER", "-in", str(env),
                    "-inkey", str(p.enc_key_path), "-recip", str(p.enc_cert_path),
                    "-out", str(plain)],
    }  # fmt: skip


def cross_check(p: Party, data: Path, work: Path, digest: str) -> None:
    """Same work on both sides: each reads what the other wrote."""
    oss = openssl_ops(p, data, work)
    for op in ("sign", "encrypt"):
        run_process(oss[op])
    with open(work / "ossl.p7s", "rb") as src, open(os.devnull, "wb") as sink:
        if not cms.verify(src, out=sink).valid:
            raise SystemExit("Huren does not verify openssl's signature")
    with open(work / "ossl.p7m", "rb") as src, open(work / "x.out", "wb") as dst:
        cms.decrypt(src, dst, certificate=p.enc_cert, key=p.enc_key)
    if sha256_file(work / "x.out") != digest:
        raise SystemExit("Huren's decryption of openssl's envelope differs from the input")
    lib = library_ops(p, data, work, "aes-256-cbc")
    lib["sign (file, DER)"]()
    lib["encrypt"]()
    run_process(["openssl", "cms", "-verify", "-binary", "-noverify", "-inform", "DER",
                 "-in", str(work / "lib.p7s"), "-out", str(work / "x.out")])  # fmt: skip
    if sha256_file(work / "x.out") != digest:
        raise SystemExit("openssl's view of Huren's attached content differs from the input")
    run_process(["openssl", "cms", "-decrypt", "-binary", "-inform", "DER",
                 "-in", str(work / "lib.p7m"), "-inkey", str(p.enc_key_path),
                 "-recip", str(p.enc_cert_path), "-out", str(work / "x.out")])  # fmt: skip
    if sha256_file(work / "x.out") != digest:
        raise SystemExit("openssl's decryption of Huren's envelope differs from the input")
    (work / "x.out").unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of the file, MiB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per operation; medians")
    parser.add_argument("--keep", type=Path, help="work here and keep the files")
    args = parser.parse_args(argv)
    if args.size_mb < 1 or args.repeat < 1:
        parser.error("--size-mb and --repeat must be at least 1")
    if shutil.which("openssl") is None:
        raise SystemExit("openssl not found on PATH")

    started = dt.datetime.now(dt.UTC)
    work = args.keep or Path(tempfile.mkdtemp(prefix="huren-cms-bench."))
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = _run(args, work, started)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"cms-speed-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def _run(args: argparse.Namespace, work: Path, started: dt.datetime) -> dict[str, Any]:
    size = args.size_mb * MIB
    data = work / "content.bin"
    print(f"writing {args.size_mb} MiB of random bytes to {data} …", file=sys.stderr, flush=True)
    make_input(data, args.size_mb)
    digest = sha256_file(data)
    rsa = Party(work / "rsa", "rsa")
    sm2p = Party(work / "sm2", "sm2")
    print("cross-checking (openssl reads Huren's output and the reverse) …", file=sys.stderr)
    cross_check(rsa, data, work, digest)

    seconds: dict[str, list[float]] = {}
    rss: dict[str, list[int]] = {}

    def note(label: str, secs: float, peak: int | None = None) -> None:
        seconds.setdefault(label, []).append(secs)
        if peak is not None:
            rss.setdefault(label, []).append(peak)

    suites = [("RSA-2048, AES-256-CBC", rsa, "aes-256-cbc"), ("SM2, SM4-CBC", sm2p, "sm4-cbc")]
    for i in range(args.repeat):
        print(f"run {i + 1}/{args.repeat} …", file=sys.stderr, flush=True)
        for title, p, cipher in suites:
            lib = library_ops(p, data, work, cipher)
            cli = cli_ops(p, data, work, cipher)
            if p is rsa:
                for op, cmd in openssl_ops(p, data, work).items():
                    note(f"{title}|{op}|openssl cms", *run_process(cmd))
            else:
                note(
                    f"{title}|sign|openssl dgst -sm3 (no CMS)",
                    *run_process(["openssl", "dgst", "-sm3", "-out", os.devnull, str(data)]),
                )
                note(
                    f"{title}|encrypt|openssl enc -sm4-cbc (no CMS)",
                    *run_process(
                        [
                            "openssl",
                            "enc",
                            "-sm4-cbc",
                            "-K",
                            "00" * 16,
                            "-iv",
                            "00" * 16,
                            "-in",
                            str(data),
                            "-out",
                            str(work / "raw.sm4"),
                        ]
                    ),
                )
                note(f"{title}|decrypt|openssl enc -d -sm4-cbc (no CMS)",
                     *run_process(["openssl", "enc", "-d", "-sm4-cbc", "-K", "00" * 16, "-iv",
                                   "00" * 16, "-in", str(work / "raw.sm4"),
                                   "-out", str(work / "raw.out")]))  # fmt: skip
            for name, fn in lib.items():
                op = name.split(" ")[0]
                note(f"{title}|{op}|Huren library{name[len(op) :]}", timed(fn))
            for op, cmd in cli.items():
                op = op.split(" ")[0]
                note(f"{title}|{op}|Huren CLI", *run_process(cmd))
        if sha256_file(work / "lib.out") != digest or sha256_file(work / "cli.out") != digest:
            raise SystemExit("a decryption differs from the input")

    startup = [run_process([*huren_cli(), "--help"]) for _ in range(args.repeat)]
    startup_s = statistics.median(s for s, _ in startup)
    startup_rss = statistics.median(r for _, r in startup) / 1024

    rows: list[dict[str, Any]] = []
    for label, runs in seconds.items():
        title, op, who = label.split("|")
        secs = statistics.median(runs)
        rows.append(
            {
                "suite": title,
                "operation": op,
                "who": who,
                "seconds": round(secs, 3),
                "mib_per_s": round(size / MIB / secs, 1),
                "max_rss_mib": round(statistics.median(rss[label]) / 1024, 1)
                if label in rss
                else None,
                "runs": [round(r, 3) for r in runs],
            }
        )
    base = {
        (r["suite"], r["operation"]): r["mib_per_s"]
        for r in rows
        if r["who"] == "openssl cms" or "(no CMS)" in r["who"]
    }
    print()
    print(f"CMS, {args.size_mb} MiB file, median of {args.repeat}")
    print(f"{'':22}{'operation':9}{'':34}{'MiB/s':>8}{'×ref':>7}{'max RSS':>10}")
    for title, _p, _c in suites:
        for op in ("sign", "verify", "encrypt", "decrypt"):
            for r in (r for r in rows if r["suite"] == title and r["operation"] == op):
                ref = base.get((title, op))
                ratio = r["mib_per_s"] / ref if ref else None
                r["ratio"] = round(ratio, 2) if ratio is not None else None
                shown_ratio = f"{ratio:7.2f}" if ratio is not None else f"{'':7}"
                mem = f"{r['max_rss_mib']:8.1f}MB" if r["max_rss_mib"] is not None else ""
                print(f"{title:22}{op:9}{r['who']:34}{r['mib_per_s']:8.1f}{shown_ratio}{mem:>10}")
    print(
        f"Huren CLI start-up alone (`{' '.join(['huren', *huren_cli()[1:], '--help'])}`): "
        f"{startup_s:.2f} s, max RSS {startup_rss:.1f} MB; every CLI row above includes it"
    )
    import cryptography

    return {
        "benchmark": "cms_speed",
        "started": started.isoformat(timespec="seconds"),
        "size_mib": args.size_mb,
        "repeat": args.repeat,
        "rows": rows,
        "cli_startup": {"seconds": round(startup_s, 3), "max_rss_mib": round(startup_rss, 1)},
        "meta": {
            "commit": git_commit(),
            "python": platform.python_version(),
            "cryptography": cryptography.__version__,
            "openssl": subprocess.run(
                ["openssl", "version"], capture_output=True, text=True
            ).stdout.strip(),
            "cpu": cpu_model(),
            "cpus": os.cpu_count(),
        },
    }


if __name__ == "__main__":
    main()
