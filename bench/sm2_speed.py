"""SM2 sign/verify per second: Huren's cert_interop.sm2 against `openssl speed sm2`, in one run.

    .venv/bin/python bench/sm2_speed.py [--seconds N] [--repeat R]

What each side does, so that the figures compare like with like:

* openssl: `openssl speed -elapsed -mr -seconds N sm2` (OpenSSL 3.0 names the test `sm2`; it
  reports "256 bits SM2 (CurveSM2)"). Each sign is EVP_DigestSignInit (SM3, default ID, so Z is
  computed every time) + EVP_DigestSign over 20 bytes; each verify likewise. `-elapsed` divides
  by wall-clock time, as the Python side does (the default would use CPU user time).
* Huren: `cert_interop.sm2.sign(key, msg)` / `verify(pub, sig, msg)` over the same 20 bytes,
  default ID, DER signatures, one key, for N seconds each, in this process; then the same through
  the CLI, `huren crypto speed sm2 --json` when the console script has the `crypto` group, else
  `python -m cert_interop.cli speed sm2 --json` (the same command, not attached yet).
* For "where the time goes": the tongsuopy key's own sign/verify (what sm2.sign wraps) and
  sm2.sign/verify with a non-default ID (Z and e computed in Python, then EVP_PKEY_sign).

Prints a table with ratios against openssl (goal: ≥ 0.8×) and writes bench/out/sm2-speed-*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from machine import cpu_model, git_commit  # noqa: E402

from cert_interop import sm2  # noqa: E402

MESSAGE = bytes(range(20))  # openssl speed signs 20 bytes
GOAL = 0.8

# machine-readable `openssl speed -mr` line: +F<n>:<index>:<bits>:CurveSM2:<sign/s>:<verify/s>
_MR_LINE = re.compile(r"^\+F\d+:\d+:256:(?:Curve)?SM2:([0-9.]+):([0-9.]+)\s*$", re.M)
# human table line: " 256 bits SM2 (CurveSM2)   0.0002s   0.0002s   4114.0   4648.0"
_TABLE_LINE = re.compile(r"SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([0-9.]+)\s+([0-9.]+)")


def openssl_speed(seconds: int) -> dict[str, Any]:
    exe = shutil.which("openssl")
    if exe is None:
        raise SystemExit("openssl not found on PATH")
    cmd = [exe, "speed", "-elapsed", "-mr", "-seconds", str(seconds), "sm2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 4 + 60)
    text = proc.stdout + proc.stderr
    match = _MR_LINE.search(text) or _TABLE_LINE.search(text)
    if proc.returncode != 0 or match is None:
        raise SystemExit(f"cannot parse `{' '.join(cmd)}` (exit {proc.returncode}):\n{text}")
    version = subprocess.run([exe, "version"], capture_output=True, text=True).stdout.strip()
    return {
        "command": " ".join(["openssl", *cmd[1:]]),
        "version": version,
        "sign_per_s": float(match.group(1)),
        "verify_per_s": float(match.group(2)),
    }


def per_second(op: Callable[[], object], seconds: float) -> float:
    clock = time.perf_counter
    op()  # warm up (imports, caches)
    start = clock()
    deadline = start + seconds
    count = 0
    while True:
        op()
        count += 1
        now = clock()
        if now >= deadline:
            return count / (now - start)


def library_speed(seconds: float) -> dict[str, dict[str, float]]:
    from tongsuopy.crypto import hashes
    from tongsuopy.crypto.asymciphers import ec

    key = sm2.generate_private_key()
    pub = key.public_key()
    sig = sm2.sign(key, MESSAGE)
    assert sm2.verify(pub, sig, MESSAGE)
    other_id = b"alice@example.cn"
    sig_id = sm2.sign(key, MESSAGE, uid=other_id)
    assert sm2.verify(pub, sig_id, MESSAGE, uid=other_id)
    native, native_pub = key.native, pub.native
    algo = ec.ECDSA(hashes.SM3())

    return {
        "huren": {
            "sign_per_s": per_second(lambda: sm2.sign(key, MESSAGE), seconds),
            "verify_per_s": per_second(lambda: sm2.verify(pub, sig, MESSAGE), seconds),
        },
        "tongsuopy_native": {
            "sign_per_s": per_second(lambda: native.sign(MESSAGE, algo), seconds),
            "verify_per_s": per_second(lambda: native_pub.verify(sig, MESSAGE, algo), seconds),
        },
        "huren_other_id": {
            "sign_per_s": per_second(lambda: sm2.sign(key, MESSAGE, uid=other_id), seconds),
            "verify_per_s": per_second(
                lambda: sm2.verify(pub, sig_id, MESSAGE, uid=other_id), seconds
            ),
        },
    }


def cli_speed(seconds: float) -> dict[str, Any] | None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    huren = Path(sys.executable).with_name("huren")
    candidates: list[list[str]] = []
    if huren.exists():
        candidates.append([str(huren), "crypto", "speed", "sm2"])
    candidates.append([sys.executable, "-m", "cert_interop.cli", "speed", "sm2"])
    for base in candidates:
        cmd = [*base, "--seconds", str(seconds), "--json"]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=seconds * 4 + 60
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0:
            try:
                figures: dict[str, Any] = json.loads(proc.stdout)
            except ValueError:
                continue
            shown = ["huren" if c == str(huren) else c for c in cmd]
            shown = ["python" if c == sys.executable else c for c in shown]
            figures["command"] = " ".join(shown)
            return figures
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3, help="per sign and per verify run")
    parser.add_argument(
        "--repeat", type=int, default=1, help="alternate openssl and Huren R times; medians"
    )
    args = parser.parse_args(argv)
    if args.seconds < 1 or args.repeat < 1:
        parser.error("--seconds and --repeat must be at least 1")

    started = dt.datetime.now(dt.UTC)
    openssl_runs: list[dict[str, Any]] = []
    library_runs: list[dict[str, dict[str, float]]] = []
    for i in range(args.repeat):
        print(f"run {i + 1}/{args.repeat}: openssl speed sm2 …", file=sys.stderr, flush=True)
        openssl_runs.append(openssl_speed(args.seconds))
        print(f"run {i + 1}/{args.repeat}: cert_interop.sm2 …", file=sys.stderr, flush=True)
        library_runs.append(library_speed(args.seconds))
    print("huren crypto speed sm2 --json …", file=sys.stderr, flush=True)
    cli = cli_speed(args.seconds)

    def median(runs: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(float(r[key]) for r in runs), 1)

    rows: dict[str, dict[str, float]] = {
        "openssl speed sm2": {
            "sign_per_s": median(openssl_runs, "sign_per_s"),
            "verify_per_s": median(openssl_runs, "verify_per_s"),
        }
    }
    labels = {
        "huren": "Huren cert_interop.sm2",
        "tongsuopy_native": "tongsuopy key (native)",
        "huren_other_id": "Huren, non-default ID",
    }
    for name, label in labels.items():
        runs = [r[name] for r in library_runs]
        rows[label] = {k: median(runs, k) for k in ("sign_per_s", "verify_per_s")}
    if cli is not None:
        rows["Huren CLI speed sm2"] = {
            "sign_per_s": round(float(cli["sign_per_s"]), 1),
            "verify_per_s": round(float(cli["verify_per_s"]), 1),
        }

    base = rows["openssl speed sm2"]
    print()
    print(f"{'SM2, 20-byte message':<28}{'sign/s':>10}{'verify/s':>10}{'sign×':>8}{'verify×':>9}")
    for label, row in rows.items():
        sign_ratio = row["sign_per_s"] / base["sign_per_s"]
        verify_ratio = row["verify_per_s"] / base["verify_per_s"]
        row["sign_ratio"] = round(sign_ratio, 2)
        row["verify_ratio"] = round(verify_ratio, 2)
        print(
            f"{label:<28}{row['sign_per_s']:>10.1f}{row['verify_per_s']:>10.1f}"
            f"{sign_ratio:>8.2f}{verify_ratio:>9.2f}"
        )
    huren = rows[labels["huren"]]
    met = huren["sign_ratio"] >= GOAL and huren["verify_ratio"] >= GOAL
    print(f"\ngoal ≥ {GOAL}× openssl for sign and verify: {'met' if met else 'NOT met'}")

    import tongsuopy
    from tongsuopy.backends.tongsuo import backend as tongsuo_backend

    result = {
        "benchmark": "sm2_speed",
        "started": started.isoformat(timespec="seconds"),
        "seconds": args.seconds,
        "repeat": args.repeat,
        "message_bytes": len(MESSAGE),
        "goal_ratio": GOAL,
        "goal_met": met,
        "rows": rows,
        "openssl_runs": openssl_runs,
        "library_runs": library_runs,
        "cli": cli,
        "meta": {
            "commit": git_commit(),
            "python": platform.python_version(),
            "tongsuopy": getattr(tongsuopy, "__version__", "unknown"),
            "tongsuopy_libcrypto": tongsuo_backend.openssl_version_text(),
            "openssl": openssl_runs[0]["version"],
            "cpu": cpu_model(),
            "cpus": os.cpu_count(),
        },
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"sm2-speed-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
