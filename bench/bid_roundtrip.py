"""`huren bid` round trip of one large file, as a bidder and the bid-opening centre run it.

    .venv/bin/python bench/bid_roundtrip.py [--mb 300] [--json PATH] [--tmpdir /tmp]
        [--quiet-wait 30] [--quiet-step 20] [--startup-runs 3]

In a fresh temporary directory (deleted at the end, also on failure or Ctrl-C) this writes a
file of --mb MiB of random bytes, makes two test PKIs per suite with `huren pki hierarchy` (the
bidder's and the trading centre's) and runs the real console script, one process per step:

    huren bid sign    --key BIDDER --pin-stdin --chain INTERMEDIATE --in F --out F.p7s
    huren bid encrypt --to BIDDER-ENC-CERT --to CENTRE-ENC-CERT --in F.p7s --out F.p7e
    huren bid decrypt --key CENTRE --pin-stdin --in F.p7e --out F.out.p7s
    huren bid verify  --in F.out.p7s --json --ca BIDDER-ROOT --out F.content

* RSA-2048: the bidder's key is a PKCS#12 file (`file:leaf.p12`), the centre's an encrypted
  PKCS#8 key file (`file:leaf.key?cert=leaf.pem`); envelope AES-256-GCM (AuthEnvelopedData),
  RSA-OAEP-SHA-256 key transport (the tool's defaults).
* SM2: signing and encryption certificates per party (`--dual`), encrypted PKCS#8 key files
  (PBES2 with SM4-CBC); SM3 signature and SM4-CBC envelope with the GM/T 0010 OIDs.

The round trip is checked: F.out.p7s must equal F.p7s and F.content the input (SHA-256, read in
1 MiB pieces), and verify must report the signature and the chain valid.

Reference, measured in the same run over the same files:

* RSA: the same four steps with `openssl cms` (-sign -binary -stream -nodetach -md sha256
  -certfile, -encrypt -aes-256-gcm with two OAEP-SHA-256 recipients, -decrypt, -verify -CAfile
  -purpose any), DER in and out; the ratio column is Huren's MiB/s over openssl's.
* SM2: OpenSSL 3.0's `cms` cannot do SM2, so the bare primitives over the same input: `openssl
  dgst -sm3` for sign and verify, `openssl enc [-d] -sm4-cbc` for encrypt and decrypt (no CMS,
  no key operation: a ceiling rather than a peer).

Per step: wall seconds (process start to exit, so Huren's include the Python start-up), MiB of
content per second, the CPU seconds of the child, and its peak RSS. Peak RSS is ru_maxrss from
os.wait4 on that one child. On Linux that figure also counts the pages the child had between fork
and exec, i.e. this process's own high-water mark, so this process imports nothing of Huren and
stays small (its own ru_maxrss is recorded as the "floor"; a child figure at the floor means "at
most this"). `huren --help` is measured the same way as the tool's fixed footprint. The CLI runs
the code of the tree this script sits in (PYTHONPATH is set to it).

The machine is shared: before the run (--quiet-wait, 30 s) and before each measured step
(--quiet-step, 20 s) the script waits up to that long for the CPUs to be idle (< 0.15 cores busy),
and it records for every step the cores other processes used meanwhile ("others"; a warning is
printed above 0.1).

Prints a table and writes JSON (--json PATH, else bench/out/bid-roundtrip-STAMP.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

from machine import cpu_model, git_commit  # noqa: E402

MIB = 1 << 20
PIN = "Bid-pin-2026"
STEPS = ("sign", "encrypt", "decrypt", "verify")
_current: list[subprocess.Popen[bytes]] = []


# ---------------------------------------------------------------------------------------------
# processes


def huren() -> list[str]:
    exe = Path(sys.executable).with_name("huren")
    if not exe.exists():
        raise SystemExit(f"no {exe}: run this with the project's .venv/bin/python")
    return [str(exe)]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("HUREN_CONFIG", None)
    return env


def busy_seconds() -> float:
    """CPU seconds all cores have been busy (not idle, not iowait) since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def wait_quiet(limit: float, sample: float = 2.0) -> float:
    """Waits up to ``limit`` seconds for other processes to leave the CPUs (< 0.15 cores busy
    over ``sample`` seconds); returns the last figure."""
    deadline = time.monotonic() + limit
    while True:
        before, t0 = busy_seconds(), time.monotonic()
        time.sleep(sample)
        busy = (busy_seconds() - before) / (time.monotonic() - t0)
        if busy < 0.15 or time.monotonic() >= deadline:
            return round(busy, 2)


def run(
    cmd: list[str],
    *,
    stdin: bytes | None = None,
    logs: Path,
    name: str,
    quiet: float = 0.0,
) -> dict[str, Any]:
    """Runs ``cmd`` to completion; wall seconds, child CPU seconds, its ru_maxrss (wait4) and
    the CPU that other processes took meanwhile (cores). With ``quiet``, first waits up to that
    many seconds for the CPUs to be idle."""
    busy_first = wait_quiet(quiet, sample=1.0) if quiet > 0 else None
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    busy_before = busy_seconds()
    out, err = logs / f"{name}.stdout", logs / f"{name}.stderr"
    with open(out, "wb") as so, open(err, "wb") as se:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=so,
            stderr=se,
            env=child_env(),
        )
        _current.append(proc)
        try:
            if stdin is not None and proc.stdin is not None:
                try:
                    proc.stdin.write(stdin)
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            busy = busy_seconds() - busy_before
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            _current.remove(proc)
    if proc.returncode != 0:
        text = err.read_text(errors="replace").strip()[-800:]
        raise SystemExit(f"`{' '.join(cmd)}` failed (exit {proc.returncode}): {text}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "others_cores": max(busy - cpu, 0.0) / seconds,
        "busy_before": busy_first,
        "maxrss_kib": usage.ru_maxrss,
        "floor_kib": floor,
        "at_floor": usage.ru_maxrss <= floor,
        "stdout": out.read_text(errors="replace"),
    }


def _stop_children() -> None:
    for proc in list(_current):
        if proc.returncode is None:
            proc.kill()
            os.waitpid(proc.pid, 0)
            proc.returncode = -9


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(143)


# ---------------------------------------------------------------------------------------------
# files


def write_random(path: Path, mib: int) -> str:
    """--mb MiB of random bytes, written 1 MiB at a time; returns its SHA-256."""
    h = hashlib.sha256()
    with open(path, "wb") as fh:
        for _ in range(mib):
            block = os.urandom(MIB)
            h.update(block)
            fh.write(block)
        fh.flush()
        os.fsync(fh.fileno())  # its write-back is not charged to the first step
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(MIB):
            h.update(block)
    return h.hexdigest()


class Pki:
    """One party's test PKI (`huren pki hierarchy`), its keys protected with PIN."""

    def __init__(self, work: Path, alg: str, who: str, logs: Path) -> None:
        self.dir = work / f"{alg}-{who}"
        org = "测试投标有限公司" if who == "bidder" else "测试公共资源交易中心"
        cmd = [*huren(), "pki", "hierarchy", "--alg", alg, "--out", str(self.dir)]
        cmd += ["--cn-prefix", f"Bench {who}", "--org", org]
        if alg == "sm2":
            cmd.append("--dual")
        run(cmd, logs=logs, name=f"pki-{alg}-{who}")
        d = self.dir
        self.root, self.intermediate = d / "root.pem", d / "intermediate.pem"
        self.sign_cert, self.sign_key = d / "leaf.pem", d / "leaf.key"
        enc = "leaf-enc" if alg == "sm2" else "leaf"
        self.enc_cert, self.enc_key = d / f"{enc}.pem", d / f"{enc}.key"

    def encrypted_pkcs8(self, key: Path, cert: Path, cipher: str) -> str:
        """A PIN-protected PKCS#8 copy of ``key`` (openssl pkcs8 -topk8 -v2); its file: URI."""
        out = key.with_name(key.stem + ".p8.pem")
        subprocess.run(
            ["openssl", "pkcs8", "-topk8", "-v2", cipher, "-in", str(key),
             "-passout", f"pass:{PIN}", "-out", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
        return f"file:{out}?cert={cert}"

    def pkcs12(self) -> str:
        """The signing key and certificate as a PIN-protected PKCS#12 file; its file: URI."""
        out = self.dir / "leaf.p12"
        subprocess.run(
            ["openssl", "pkcs12", "-export", "-inkey", str(self.sign_key), "-in",
             str(self.sign_cert), "-name", "bidder", "-passout", f"pass:{PIN}", "-out", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
        return f"file:{out}"


# ---------------------------------------------------------------------------------------------
# the run


def huren_steps(sign_key: str, pki_b: Pki, pki_c: Pki, decrypt_key: str, w: Path) -> list[Any]:
    h = [*huren(), "bid"]
    pin = (PIN + "\n").encode()
    return [
        ("sign", [*h, "sign", "--key", sign_key, "--pin-stdin", "--chain", str(pki_b.intermediate),
                  "--in", str(w / "F"), "--out", str(w / "F.p7s")], pin),
        ("encrypt", [*h, "encrypt", "--to", str(pki_b.enc_cert), "--to", str(pki_c.enc_cert),
                     "--in", str(w / "F.p7s"), "--out", str(w / "F.p7e")], None),
        ("decrypt", [*h, "decrypt", "--key", decrypt_key, "--pin-stdin", "--in", str(w / "F.p7e"),
                     "--out", str(w / "F.out.p7s")], pin),
        ("verify", [*h, "verify", "--in", str(w / "F.out.p7s"), "--json", "--ca", str(pki_b.root),
                    "--out", str(w / "F.content")], None),
    ]  # fmt: skip


def openssl_cms_steps(pki_b: Pki, pki_c: Pki, w: Path) -> list[Any]:
    o = ["openssl", "cms"]
    oaep = ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"]
    return [
        ("sign", "openssl cms -sign -stream", [*o, "-sign", "-binary", "-stream", "-nodetach",
         "-md", "sha256", "-signer", str(pki_b.sign_cert), "-inkey", str(pki_b.sign_key),
         "-certfile", str(pki_b.intermediate), "-outform", "DER", "-in", str(w / "F"),
         "-out", str(w / "R.p7s")]),
        ("encrypt", "openssl cms -encrypt -aes-256-gcm", [*o, "-encrypt", "-binary", "-stream",
         "-aes-256-gcm", "-recip", str(pki_b.enc_cert), *oaep, "-recip", str(pki_c.enc_cert),
         *oaep, "-outform", "DER", "-in", str(w / "R.p7s"), "-out", str(w / "R.p7e")]),
        ("decrypt", "openssl cms -decrypt", [*o, "-decrypt", "-binary", "-stream", "-inform",
         "DER", "-in", str(w / "R.p7e"), "-inkey", str(pki_c.enc_key), "-recip",
         str(pki_c.enc_cert), "-out", str(w / "R.out.p7s")]),
        ("verify", "openssl cms -verify -CAfile", [*o, "-verify", "-binary", "-stream", "-inform",
         "DER", "-in", str(w / "R.out.p7s"), "-CAfile", str(pki_b.root), "-purpose", "any",
         "-out", str(w / "R.content")]),
    ]  # fmt: skip


def openssl_sm_steps(w: Path) -> list[Any]:
    key = ["-K", "00" * 16, "-iv", "00" * 16]
    sm3 = ["openssl", "dgst", "-sm3", "-out", os.devnull]
    return [
        ("sign", "openssl dgst -sm3 (no CMS)", [*sm3, str(w / "F")]),
        ("encrypt", "openssl enc -sm4-cbc (no CMS)", ["openssl", "enc", "-sm4-cbc", *key,
         "-in", str(w / "F.p7s"), "-out", str(w / "R.sm4")]),
        ("decrypt", "openssl enc -d -sm4-cbc (no CMS)", ["openssl", "enc", "-d", "-sm4-cbc", *key,
         "-in", str(w / "R.sm4"), "-out", str(w / "R.dec")]),
        ("verify", "openssl dgst -sm3 (no CMS)", [*sm3, str(w / "F.out.p7s")]),
    ]  # fmt: skip


def _row(who: str, step: str, r: dict[str, Any], size: int, startup_s: float) -> dict[str, Any]:
    mib = size / MIB
    net = r["seconds"] - startup_s
    return {
        "step": step,
        "who": who,
        "seconds": round(r["seconds"], 3),
        "cpu_s": round(r["cpu_s"], 3),
        "others_cores": round(r["others_cores"], 2),
        "cpu_busy_before": r["busy_before"],
        "mib_per_s": round(mib / r["seconds"], 1),
        "mib_per_s_net_of_startup": round(mib / net, 1) if startup_s and net > 0 else None,
        "peak_rss_mib": round(r["maxrss_kib"] / 1024, 1),
        "peak_rss_at_floor": r["at_floor"],
        "peak_rss_over_file": round(r["maxrss_kib"] * 1024 / size, 4),
    }


def suite(
    name: str,
    alg: str,
    work: Path,
    logs: Path,
    size: int,
    digest: str,
    startup: dict[str, Any],
    quiet: float,
) -> dict[str, Any]:
    w = work / alg
    w.mkdir()
    os.link(work / "F", w / "F")
    bidder, centre = Pki(w, alg, "bidder", logs), Pki(w, alg, "centre", logs)
    if alg == "rsa":
        sign_key = bidder.pkcs12()
        decrypt_key = centre.encrypted_pkcs8(centre.enc_key, centre.enc_cert, "aes-256-cbc")
    else:
        sign_key = bidder.encrypted_pkcs8(bidder.sign_key, bidder.sign_cert, "sm4-cbc")
        decrypt_key = centre.encrypted_pkcs8(centre.enc_key, centre.enc_cert, "sm4-cbc")
    print(f"{name}: huren bid sign → encrypt → decrypt → verify …", file=sys.stderr, flush=True)
    rows: list[dict[str, Any]] = []
    verify_doc: dict[str, Any] = {}
    for step, cmd, stdin in huren_steps(sign_key, bidder, centre, decrypt_key, w):
        r = run(cmd, stdin=stdin, logs=logs, name=f"{alg}-huren-{step}", quiet=quiet)
        rows.append(_row(f"huren bid {step}", step, r, size, startup["seconds"]))
        if step == "verify":
            verify_doc = json.loads(r["stdout"])
    checks = {
        "decrypted_equals_signed": sha256_file(w / "F.out.p7s") == sha256_file(w / "F.p7s"),
        "content_equals_input": sha256_file(w / "F.content") == digest,
        "verify_valid": verify_doc.get("valid") is True,
        "signature_valid": all(s["signature_valid"] for s in verify_doc.get("signers", [])),
        "chain_valid": all(s["chain"]["valid"] for s in verify_doc.get("signers", [])),
        "content_length": verify_doc.get("content_length") == size,
    }
    sizes = {f: (w / f).stat().st_size for f in ("F.p7s", "F.p7e", "F.out.p7s", "F.content")}
    if not all(checks.values()):
        raise SystemExit(f"{name}: the round trip failed: {checks}")
    print(f"{name}: reference …", file=sys.stderr, flush=True)
    refs = openssl_cms_steps(bidder, centre, w) if alg == "rsa" else openssl_sm_steps(w)
    for step, who, cmd in refs:
        r = run(cmd, logs=logs, name=f"{alg}-openssl-{step}", quiet=quiet)
        rows.append({**_row(who, step, r, size, 0.0), "reference": True})
    if alg == "rsa" and sha256_file(w / "R.content") != digest:
        raise SystemExit("openssl's round trip does not give the input back")
    for r in rows:
        if r.get("reference"):
            continue
        ref = next(x for x in rows if x.get("reference") and x["step"] == r["step"])
        r["ratio_to_reference"] = round(r["mib_per_s"] / ref["mib_per_s"], 2)
    verify_summary = {
        "gm": verify_doc.get("gm"),
        "algorithm": [s["algorithm"] for s in verify_doc.get("signers", [])],
        "digest_algorithm": [s["digest_algorithm"] for s in verify_doc.get("signers", [])],
    }
    shutil.rmtree(w)  # keep at most one suite's files on disk
    return {"suite": name, "checks": checks, "sizes": sizes, "verify": verify_summary, "rows": rows}


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
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "mem_gib": round(int(mem) / MIB, 1),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "openssl": subprocess.run(
            ["openssl", "version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def print_table(result: dict[str, Any]) -> None:
    mib = result["size_mib"]
    st = result["startup"]
    print()
    print(f"huren bid round trip, {mib} MiB file (MiB/s = MiB of content per wall second)")
    print(
        f"fixed footprint: `huren --help` {st['seconds']:.2f} s, peak RSS {st['peak_rss_mib']:.1f}"
        f" MiB; this process (the wait4 floor) {result['parent_peak_rss_mib']:.1f} MiB"
    )
    head = (
        f"{'step':8}{'who':36}{'s':>7}{'cpu s':>7}{'MiB/s':>8}{'net':>8}{'peak RSS':>12}"
        f"{'/file':>7}{'others':>7}"
    )
    for s in result["suites"]:
        print()
        print(s["suite"])
        print(head + f"{'× ref':>7}")
        for step in STEPS:
            for r in (r for r in s["rows"] if r["step"] == step):
                net = r["mib_per_s_net_of_startup"]
                rss = ("≤" if r["peak_rss_at_floor"] else "") + f"{r['peak_rss_mib']:.1f} MiB"
                ratio = r.get("ratio_to_reference")
                print(
                    f"{step if not r.get('reference') else '':8}{r['who']:36}"
                    f"{r['seconds']:7.2f}{r['cpu_s']:7.2f}{r['mib_per_s']:8.1f}"
                    f"{(f'{net:8.1f}' if net else ''):>8}{rss:>12}"
                    f"{r['peak_rss_over_file']:7.3f}{r['others_cores']:7.2f}"
                    f"{(f'{ratio:7.2f}' if ratio is not None else ''):>7}"
                )
        print("checks: " + ", ".join(k for k, v in s["checks"].items() if v) + " — all OK")
    print()
    print("net = MiB/s with the `huren --help` start-up time taken off; /file = peak RSS over")
    print("the file's size; others = cores other processes used during the step; × ref = Huren's")
    print("MiB/s over the reference's (RSA: openssl cms, same steps; SM2: bare SM3 / SM4)")
    busy = [r["others_cores"] for s in result["suites"] for r in s["rows"]]
    if max(busy) > 0.1:
        print(f"WARNING: other processes used up to {max(busy):.2f} cores during a step")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=300, help="size of the file, MiB [300]")
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.add_argument("--tmpdir", type=Path, default=Path("/tmp"), help="[/tmp]")
    parser.add_argument("--startup-runs", type=int, default=3, help="`huren --help` runs [3]")
    parser.add_argument(
        "--quiet-wait", type=float, default=30, help="seconds to wait for an idle CPU first [30]"
    )
    parser.add_argument(
        "--quiet-step",
        type=float,
        default=20,
        help="and before each measured step (0: do not wait) [20]",
    )
    args = parser.parse_args(argv)
    if args.mb < 1 or args.startup_runs < 1:
        parser.error("--mb and --startup-runs must be at least 1")
    if shutil.which("openssl") is None:
        raise SystemExit("openssl not found on PATH")
    started = dt.datetime.now(dt.UTC)
    signal.signal(signal.SIGTERM, _on_sigterm)
    work = Path(tempfile.mkdtemp(prefix="huren-bid-bench.", dir=args.tmpdir))
    try:
        result = _run(args, work, started)
    finally:
        _stop_children()
        shutil.rmtree(work, ignore_errors=True)
    print_table(result)
    path = args.json or OUT / f"bid-roundtrip-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


def _run(args: argparse.Namespace, work: Path, started: dt.datetime) -> dict[str, Any]:
    logs = work / "logs"
    logs.mkdir()
    meta = {"machine": machine(), "commit": git_commit()}
    meta["cpu_busy_before_run"] = wait_quiet(args.quiet_wait)
    print(f"CPU busy before the run: {meta['cpu_busy_before_run']} cores", file=sys.stderr)
    print(f"writing {args.mb} MiB of random bytes to {work}/F …", file=sys.stderr, flush=True)
    size = args.mb * MIB
    digest = write_random(work / "F", args.mb)
    runs = [
        run([*huren(), "--help"], logs=logs, name=f"help-{i}", quiet=args.quiet_step)
        for i in range(args.startup_runs)
    ]
    startup = {
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "peak_rss_mib": round(max(r["maxrss_kib"] for r in runs) / 1024, 1),
        "runs_s": [round(r["seconds"], 3) for r in runs],
    }
    suites = [
        suite("RSA-2048, AES-256-GCM (PKCS#12 / PKCS#8 soft tokens)", "rsa", work, logs, size,
              digest, startup, args.quiet_step),
        suite("SM2, SM3 + SM4-CBC, GM/T 0010 (PKCS#8 soft tokens)", "sm2", work, logs, size,
              digest, startup, args.quiet_step),
    ]  # fmt: skip
    return {
        "benchmark": "bid_roundtrip",
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "size_mib": args.mb,
        "size_bytes": size,
        "startup": startup,
        "parent_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "suites": suites,
        "meta": meta,
    }


if __name__ == "__main__":
    main()
