"""Small helpers for bench/run.sh: ports, discovery, PKCE, token checks, wrk results, the report.

Only talks to 127.0.0.1. Every loop is bounded. Run as ``python bench/benchtool.py <command> ...``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import requests

LOOPBACK = {"127.0.0.1", "localhost"}
HTTP_TIMEOUT = 10.0


def require_loopback(url: str) -> str:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to talk to {url!r}: the bench only targets 127.0.0.1")
    return url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def basic_auth(client_id: str, secret: str) -> str:
    """Authorization header value for client_secret_basic (RFC 6749 section 2.3.1)."""
    user = urllib.parse.quote_plus(client_id)
    password = urllib.parse.quote_plus(secret)
    raw = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def discovery(issuer: str) -> dict[str, Any]:
    url = require_loopback(issuer.rstrip("/") + "/.well-known/openid-configuration")
    resp = requests.get(url, timeout=HTTP_TIMEOUT)
    resp.raise_for_status()
    doc: dict[str, Any] = resp.json()
    for key in ("token_endpoint", "authorization_endpoint", "jwks_uri"):
        require_loopback(str(doc[key]))
    return doc


def wait_ready(issuer: str, seconds: float) -> None:
    url = require_loopback(issuer.rstrip("/") + "/.well-known/openid-configuration")
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            resp = requests.get(url, timeout=2)
            if resp.status_code == 200:
                return
            last = f"HTTP {resp.status_code}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise SystemExit(f"{issuer} not ready after {seconds:.0f}s ({last})")


def _group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system, all threads) of the live processes in process group ``pgid``."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        # fields[0] is field 3 (state) of proc(5): pgrp is field 5, utime 14, stime 15
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _cpu_busy_seconds(cpu: str) -> float:
    """Busy (non-idle, non-iowait) time of one CPU (``cpu1``) or of all (``cpu``), in seconds."""
    for line in Path("/proc/stat").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == cpu:
            values = [int(v) for v in parts[1:]]
            busy = sum(values) - values[3] - values[4]
            return busy / os.sysconf("SC_CLK_TCK")
    raise SystemExit(f"no {cpu} line in /proc/stat")


def snapshot(pgid: int, cpu: str) -> dict[str, float]:
    return {
        "t": time.monotonic(),
        "server_cpu_s": _group_cpu_seconds(pgid),
        "core_busy_s": _cpu_busy_seconds(cpu),
    }


def _b64json(part: str) -> dict[str, Any]:
    padded = part + "=" * (-len(part) % 4)
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return value


def verify_rs256(token: str, jwks: dict[str, Any], what: str) -> dict[str, Any]:
    """Checks that ``token`` is a JWS signed RS256 by a key of ``jwks``; returns its claims."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    parts = token.split(".")
    if len(parts) != 3:
        raise SystemExit(f"{what} is not a JWT (opaque token?): {token[:40]}...")
    header = _b64json(parts[0])
    if header.get("alg") != "RS256":
        raise SystemExit(f"{what} is signed {header.get('alg')!r}, not RS256")
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    claims: dict[str, Any] = dict(decoded.claims)
    return claims


def check(args: argparse.Namespace) -> None:
    """One real request per scenario before measuring: both servers must do the same work."""
    doc = discovery(args.issuer)
    jwks = requests.get(require_loopback(doc["jwks_uri"]), timeout=HTTP_TIMEOUT).json()
    token_endpoint = require_loopback(doc["token_endpoint"])
    if args.scenario == "client_credentials":
        data = {"grant_type": "client_credentials", "scope": args.scope}
    else:
        codes = [c.strip() for c in Path(args.code_file).read_text().splitlines() if c.strip()]
        if not codes:
            raise SystemExit("no code to check the exchange with")
        data = {
            "grant_type": "authorization_code",
            "code": codes[0],
            "redirect_uri": args.redirect_uri,
            "code_verifier": args.verifier,
        }
    resp = requests.post(
        token_endpoint,
        data=data,
        headers={"Authorization": args.auth, "Accept": "application/json"},
        timeout=HTTP_TIMEOUT,
    )
    if resp.status_code != 200:
        raise SystemExit(f"{args.scenario}: HTTP {resp.status_code}: {resp.text[:300]}")
    body = resp.json()
    at = verify_rs256(body["access_token"], jwks, "access_token")
    summary = {
        "scenario": args.scenario,
        "response_fields": sorted(body),
        "access_token": {"alg": "RS256", "aud": at.get("aud"), "scope": at.get("scope")},
    }
    if args.scenario == "code_exchange":
        if "id_token" not in body:
            raise SystemExit("code exchange returned no id_token")
        idt = verify_rs256(body["id_token"], jwks, "id_token")
        summary["id_token"] = {"alg": "RS256", "aud": idt.get("aud")}
    print(json.dumps(summary))


def mint_peer(args: argparse.Namespace) -> None:
    url = require_loopback(args.mint_url)
    resp = requests.post(
        url,
        params={"n": str(args.n), "challenge": s256(args.verifier)},
        timeout=max(HTTP_TIMEOUT, args.n / 1000),
    )
    resp.raise_for_status()
    codes = [c for c in resp.text.splitlines() if c]
    if len(codes) != args.n or len(set(codes)) != args.n:
        raise SystemExit(
            f"peer minted {len(codes)} codes ({len(set(codes))} distinct), not {args.n}"
        )
    Path(args.out).write_text("\n".join(codes) + "\n")


def wrk_result(args: argparse.Namespace) -> None:
    """Reads wrk's output, finds the BENCH_RESULT line, adds labels, appends it to a JSONL file."""
    text = Path(args.wrk_output).read_text(errors="replace")
    lines = [ln for ln in text.splitlines() if ln.startswith("BENCH_RESULT ")]
    if not lines:
        raise SystemExit(f"no BENCH_RESULT line in {args.wrk_output}:\n{text[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("BENCH_RESULT ") :])
    result.update(server=args.server, phase=args.phase, round=args.round)
    if args.before and args.after:
        before, after = json.loads(args.before), json.loads(args.after)
        wall = after["t"] - before["t"]
        server_cpu = after["server_cpu_s"] - before["server_cpu_s"]
        # CPU time others took on the servers' core while this run went on (0 when unpinned:
        # then core_busy covers every core, wrk included, and says nothing about contention)
        foreign = after["core_busy_s"] - before["core_busy_s"] - server_cpu
        result["server_cpu_s"] = round(server_cpu, 3)
        result["server_cpu_share"] = round(server_cpu / wall, 3) if wall > 0 else None
        result["rps_per_server_cpu_s"] = (
            round(result["requests"] / server_cpu, 2) if server_cpu > 0 else None
        )
        result["other_cpu_on_server_core"] = (
            round(max(foreign, 0.0) / wall, 3) if args.pinned else None
        )
    problems = []
    if result["non_2xx"]:
        problems.append(f"{result['non_2xx']} non-2xx")
    socket_errors = sum(result["socket_errors"].values())
    if socket_errors:
        problems.append(f"{socket_errors} socket errors {result['socket_errors']}")
    if result.get("codes_exhausted"):
        problems.append("ran out of pre-minted codes")
    if result["requests"] == 0:
        problems.append("no request completed")
    result["valid"] = not problems
    result["problems"] = problems
    with open(args.results, "a") as f:
        f.write(json.dumps(result) + "\n")
    state = "ok" if result["valid"] else "INVALID: " + "; ".join(problems)
    cpu = ""
    if result.get("server_cpu_share") is not None:
        cpu = f", server CPU {result['server_cpu_share']:.2f} cores"
        if result.get("rps_per_server_cpu_s"):
            cpu += f", {result['rps_per_server_cpu_s']:.0f} req per server CPU-s"
        if result.get("other_cpu_on_server_core"):
            cpu += f", others on its core {result['other_cpu_on_server_core']:.2f}"
    print(
        f"  {args.server:6} {result['scenario']:18} {args.phase:7} "
        f"{result['rps']:9.1f} req/s  ({result['requests']} requests{cpu}, {state})"
    )
    if args.print_rps:
        print(f"{result['rps']:.2f}", file=sys.stderr)


def last_rps(args: argparse.Namespace) -> None:
    """Prints the rps of the last matching result (for sizing the next batch of codes)."""
    rps = 0.0
    for line in Path(args.results).read_text().splitlines():
        r = json.loads(line)
        if r["server"] == args.server and r["scenario"] == args.scenario:
            if args.valid_only and not r["valid"]:
                continue
            if args.skip_exhausted and r.get("codes_exhausted"):
                continue
            rps = float(r["rps"])
    print(f"{rps:.2f}")


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


CONTENDED = 0.05  # share of the servers' core taken by other processes that spoils a run


def _median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def _cells(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [row[k] for k in ("huren", "peer") if isinstance(row.get(k), dict)]


def report(args: argparse.Namespace) -> None:
    results = [json.loads(ln) for ln in Path(args.results).read_text().splitlines() if ln.strip()]
    meta: dict[str, Any] = json.loads(Path(args.meta).read_text()) if args.meta else {}
    measured = [r for r in results if r["phase"] == "measure"]
    scenarios = list(dict.fromkeys(r["scenario"] for r in measured))
    servers = list(dict.fromkeys(r["server"] for r in measured))
    table: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        row: dict[str, Any] = {}
        for server in servers:
            runs = [r for r in measured if r["scenario"] == scenario and r["server"] == server]
            if not runs:
                continue
            valid = [r for r in runs if r["valid"]]
            row[server] = {
                "rps_median": statistics.median(r["rps"] for r in valid) if valid else None,
                "rps_runs": [r["rps"] for r in runs],
                "valid": len(valid) == len(runs),
                "problems": sorted({p for r in runs for p in r["problems"]}),
                "requests": sum(r["requests"] for r in runs),
                "latency_p50_ms": statistics.median(r["latency_us"]["p50"] for r in runs) / 1000,
                "latency_p99_ms": statistics.median(r["latency_us"]["p99"] for r in runs) / 1000,
                "server_cpu_share_median": _median_of(runs, "server_cpu_share"),
                "rps_per_server_cpu_s_median": _median_of(valid, "rps_per_server_cpu_s"),
                "other_cpu_on_server_core_max": max(
                    (r.get("other_cpu_on_server_core") or 0.0 for r in runs), default=0.0
                ),
            }
        hu, pe = row.get("huren"), row.get("peer")
        if hu and pe and hu["valid"] and pe["valid"] and pe["rps_median"]:
            row["ratio_huren_over_peer"] = hu["rps_median"] / pe["rps_median"]
        else:
            row["ratio_huren_over_peer"] = None
        hu_eff = hu and hu["valid"] and hu["rps_per_server_cpu_s_median"]
        pe_eff = pe and pe["valid"] and pe["rps_per_server_cpu_s_median"]
        row["ratio_per_cpu_s_huren_over_peer"] = hu_eff / pe_eff if hu_eff and pe_eff else None
        table[scenario] = row

    meta.setdefault("python", platform.python_version())
    meta.setdefault("node", _version(["node", "--version"]))
    meta.setdefault("wrk", _version(["wrk", "-v"]))
    meta["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    out = {"meta": meta, "results": table, "runs": results}
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")

    def fmt(cell: dict[str, Any] | None) -> str:
        if not cell:
            return "-"
        if not cell["valid"] or cell["rps_median"] is None:
            return "INVALID"
        return f"{cell['rps_median']:.1f}"

    print()
    rounds, duration = meta.get("rounds", 1), meta.get("duration")
    print(f"requests/second (median of {rounds} round(s) of {duration}s)")
    print(f"{'scenario':20} {'huren':>10} {'peer':>10} {'huren/peer':>11}")
    for scenario, row in table.items():
        ratio = row["ratio_huren_over_peer"]
        rtxt = f"{ratio:.2f}" if ratio is not None else "n/a"
        print(f"{scenario:20} {fmt(row.get('huren')):>10} {fmt(row.get('peer')):>10} {rtxt:>11}")
    if any(c.get("rps_per_server_cpu_s_median") for row in table.values() for c in _cells(row)):
        print()
        print("requests per CPU-second used by the server process(es) (median)")
        print(f"{'scenario':20} {'huren':>10} {'peer':>10} {'huren/peer':>11}")
        for scenario, row in table.items():
            ratio = row["ratio_per_cpu_s_huren_over_peer"]
            rtxt = f"{ratio:.2f}" if ratio is not None else "n/a"
            cells = [
                f"{c['rps_per_server_cpu_s_median']:.1f}"
                if c and c.get("rps_per_server_cpu_s_median")
                else "-"
                for c in (row.get("huren"), row.get("peer"))
            ]
            print(f"{scenario:20} {cells[0]:>10} {cells[1]:>10} {rtxt:>11}")
    if meta.get("rsa2048_sign_per_s"):
        print(f"hardware reference: openssl rsa2048 sign/s = {meta['rsa2048_sign_per_s']}")
    for scenario, row in table.items():
        for server in servers:
            cell = row.get(server)
            if cell and cell["problems"]:
                print(f"INVALID {server} {scenario}: {'; '.join(cell['problems'])}")
            if cell and cell["other_cpu_on_server_core_max"] > CONTENDED:
                print(
                    f"WARNING {server} {scenario}: other processes took up to "
                    f"{cell['other_cpu_on_server_core_max']:.2f} of the servers' core; "
                    "figures are low, rerun on a quiet machine"
                )
    print(f"figures written to {args.out}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port")
    c = sub.add_parser("challenge")
    c.add_argument("verifier")
    c = sub.add_parser("basic")
    c.add_argument("client_id")
    c.add_argument("secret")
    c = sub.add_parser("wait")
    c.add_argument("issuer")
    c.add_argument("--seconds", type=float, default=60)
    c = sub.add_parser("endpoint")
    c.add_argument("issuer")
    c.add_argument("name")
    c = sub.add_parser("check")
    c.add_argument("--issuer", required=True)
    c.add_argument("--scenario", choices=["client_credentials", "code_exchange"], required=True)
    c.add_argument("--auth", required=True)
    c.add_argument("--scope", default="api")
    c.add_argument("--code-file")
    c.add_argument("--redirect-uri")
    c.add_argument("--verifier")
    c = sub.add_parser("mint-peer")
    c.add_argument("--mint-url", required=True)
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--verifier", required=True)
    c.add_argument("--out", required=True)
    c = sub.add_parser("wrk-result")
    c.add_argument("--wrk-output", required=True)
    c.add_argument("--results", required=True)
    c.add_argument("--server", required=True)
    c.add_argument("--phase", required=True)
    c.add_argument("--round", type=int, default=1)
    c.add_argument("--print-rps", action="store_true")
    c.add_argument("--before", help="snapshot JSON taken just before wrk started")
    c.add_argument("--after", help="snapshot JSON taken just after wrk ended")
    c.add_argument("--pinned", action="store_true")
    c = sub.add_parser("snapshot")
    c.add_argument("--pgid", type=int, required=True)
    c.add_argument("--cpu", default="cpu", help="cpuN of the servers' core, or cpu for all")
    c = sub.add_parser("busy")
    c.add_argument("--seconds", type=float, default=2.0)
    c = sub.add_parser("last-rps")
    c.add_argument("--results", required=True)
    c.add_argument("--server", required=True)
    c.add_argument("--scenario", required=True)
    c.add_argument("--valid-only", action="store_true")
    c.add_argument("--skip-exhausted", action="store_true")
    c = sub.add_parser("report")
    c.add_argument("--results", required=True)
    c.add_argument("--meta")
    c.add_argument("--out", required=True)
    args = p.parse_args(argv)

    if args.cmd == "free-port":
        print(free_port())
    elif args.cmd == "challenge":
        print(s256(args.verifier))
    elif args.cmd == "basic":
        print(basic_auth(args.client_id, args.secret))
    elif args.cmd == "wait":
        wait_ready(args.issuer, args.seconds)
    elif args.cmd == "endpoint":
        print(discovery(args.issuer)[args.name])
    elif args.cmd == "check":
        check(args)
    elif args.cmd == "mint-peer":
        mint_peer(args)
    elif args.cmd == "wrk-result":
        wrk_result(args)
    elif args.cmd == "last-rps":
        last_rps(args)
    elif args.cmd == "snapshot":
        print(json.dumps(snapshot(args.pgid, args.cpu)))
    elif args.cmd == "busy":
        seconds = min(max(args.seconds, 0.1), 30.0)
        start = _cpu_busy_seconds("cpu")
        time.sleep(seconds)
        print(f"{(_cpu_busy_seconds('cpu') - start) / seconds:.2f}")
    elif args.cmd == "report":
        report(args)


if __name__ == "__main__":
    main()
