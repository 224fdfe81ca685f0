"""Chain validations per second: root → intermediate → leaf for RSA, ECDSA and SM2.

    .venv/bin/python bench/chain_speed.py [--seconds N]

For each algorithm, in one run:

* ``huren cold``: ``cert_interop.validation.validate`` with an empty signature cache every time,
  so both signatures of the path (leaf and intermediate) are verified;
* ``huren warm``: the same with the process-wide verdict cache (what a service sees for the
  second login with the same certificate);
* ``huren warm + CRLs``: warm, with the two CRLs of the hierarchy checked;
* ``signatures only``: the two signature checks alone (``cert_interop.x509.verify_signature``),
  so ``cold - signatures`` is our overhead beyond them (goal: well under 1 ms for SM2);
* ``trust store warm``: ``TrustStore.validate`` on SQLite with the root and intermediate stored
  and the intermediate's CRL uploaded — snapshot, CRL check and the holder's identity read by
  the CA profile included (what certificate login pays per request);
* ``peer``: the Rust verifier of ``cryptography`` (``x509.verification``, client policy) on the
  same RSA/ECDSA certificates — it has no SM2, so SM2 has no peer figure.

Prints a table and writes bench/out/chain-speed-*.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from cryptography import x509 as cx509  # noqa: E402
from cryptography.x509 import verification as cver  # noqa: E402

from cert_interop.pki_cli import write_hierarchy  # noqa: E402
from cert_interop.truststore import TrustStore  # noqa: E402
from cert_interop.validation import SignatureCache, validate  # noqa: E402
from cert_interop.x509 import verify_signature  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            fn()
        n += 20
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def trust_store(tmp: Path) -> TrustStore:
    from config.runtime import MIGRATION_LOCATIONS

    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url, MIGRATION_LOCATIONS)
    return TrustStore(make_session_factory(make_engine(url)))


def measure(alg: str, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        h = write_hierarchy(Path(tmp), alg=alg)
        store = trust_store(Path(tmp))
        store.add(h.root.pem() + h.intermediate.pem(), profile="default")
        store.upload_crl(h.crl.pem())
    leaf, inter, root = h.leaf, h.intermediate, h.root
    at = dt.datetime.now(dt.UTC)

    def cold() -> None:
        r = validate(leaf, intermediates=[inter], anchors=[root], at=at, cache=SignatureCache(8))
        assert r.valid, r.detail

    def warm() -> None:
        assert validate(leaf, intermediates=[inter], anchors=[root], at=at).valid

    def warm_crls() -> None:
        r = validate(
            leaf,
            intermediates=[inter],
            anchors=[root],
            at=at,
            crls=[h.crl, h.root_crl],
            require_revocation=True,
        )
        assert r.valid and r.revocation_checked

    def signatures() -> None:
        assert verify_signature(leaf, inter.public_key)
        assert verify_signature(inter, root.public_key)

    def via_store() -> None:
        assert store.validate(leaf, at=at).valid

    row: dict[str, Any] = {
        "alg": alg,
        "huren_cold_per_s": rate(cold, seconds),
        "huren_warm_per_s": rate(warm, seconds),
        "huren_warm_crls_per_s": rate(warm_crls, seconds),
        "signatures_only_per_s": rate(signatures, seconds),
        "trust_store_warm_per_s": rate(via_store, seconds),
        "peer_per_s": None,
    }
    if alg != "sm2":
        store = cver.Store([cx509.load_der_x509_certificate(root.der)])
        c_leaf = cx509.load_der_x509_certificate(leaf.der)
        c_inter = cx509.load_der_x509_certificate(inter.der)
        verifier = cver.PolicyBuilder().store(store).time(at).build_client_verifier()

        def peer() -> None:
            verifier.verify(c_leaf, [c_inter])

        row["peer_per_s"] = rate(peer, seconds)
    cold_ms = 1000 / row["huren_cold_per_s"]
    sig_ms = 1000 / row["signatures_only_per_s"]
    row["overhead_beyond_signatures_ms"] = cold_ms - sig_ms
    row["warm_ms"] = 1000 / row["huren_warm_per_s"]
    row["trust_store_warm_ms"] = 1000 / row["trust_store_warm_per_s"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    rows = [measure(alg, args.seconds) for alg in ("rsa", "ec", "sm2")]
    print(
        f"{'alg':4} {'cold/s':>9} {'warm/s':>9} {'warm+CRL/s':>11} {'sigs/s':>9} "
        f"{'peer/s':>9} {'cold/peer':>9} {'overhead ms':>11} {'warm ms':>8} {'store ms':>8}"
    )
    for r in rows:
        peer = r["peer_per_s"]
        ratio = f"{r['huren_cold_per_s'] / peer:.2f}" if peer else "-"
        print(
            f"{r['alg']:4} {r['huren_cold_per_s']:9.1f} {r['huren_warm_per_s']:9.1f} "
            f"{r['huren_warm_crls_per_s']:11.1f} {r['signatures_only_per_s']:9.1f} "
            f"{(f'{peer:.1f}' if peer else '-'):>9} {ratio:>9} "
            f"{r['overhead_beyond_signatures_ms']:11.3f} {r['warm_ms']:8.3f} "
            f"{r['trust_store_warm_ms']:8.3f}"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"chain-speed-{stamp}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
