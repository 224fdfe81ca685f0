#!/usr/bin/env bash
# bench/run.sh (`make bench`): Huren against panva's oidc-provider, side by side in one run.
#
# Both servers run with one worker (Huren: `huren serve --workers 1`; the peer: one Node process),
# pinned to the same single CPU; wrk, the same load generator with the same Lua scripts, runs on
# the other CPU. Scenarios:
#   client_credentials  POST token endpoint, client_secret_basic, scope=api -> RS256 JWT access token
#   code_exchange       POST token endpoint, authorization_code + PKCE, one fresh code per request
#                       -> RS256 JWT access token + RS256 ID token
# Prints requests/second per server and scenario and the ratio Huren/peer; writes the figures as
# JSON to bench/out/. A run with any non-2xx answer, socket error or exhausted code supply is
# reported INVALID, never as a figure. Only 127.0.0.1 is targeted; every loop is bounded.
set -euo pipefail

# ---- parameters (override through the environment) ------------------------------------------
DURATION="${BENCH_DURATION:-10}"         # seconds per measured run
WARMUP="${BENCH_WARMUP:-5}"              # seconds of warm-up per server and scenario
THREADS="${BENCH_THREADS:-2}"            # wrk -t
CONNECTIONS="${BENCH_CONNECTIONS:-16}"   # wrk -c
ROUNDS="${BENCH_ROUNDS:-3}"              # measured runs per server and scenario (median reported)
SERVERS="${BENCH_SERVERS:-huren peer}"
HUREN_ARGS="${BENCH_HUREN_ARGS:-}"       # extra `huren serve` options, e.g. "--threads 1"
SCENARIOS="${BENCH_SCENARIOS:-client_credentials code_exchange}"
PIN="${BENCH_PIN:-1}"                    # 1: servers on SERVER_CPU, load generator on LOAD_CPU
SERVER_CPU="${BENCH_SERVER_CPU:-1}"
LOAD_CPU="${BENCH_LOAD_CPU:-0}"
QUIET_WAIT="${BENCH_QUIET_WAIT:-30}"     # before each run, wait up to this many seconds for other
                                         # processes to leave the CPU (< 0.15 cores busy)
CODE_FACTOR="${BENCH_CODE_FACTOR:-1.5}"  # codes minted = expected requests * factor + 500
MAX_CODES=200000
WRK_TIMEOUT=10s
READY_SECONDS=60
REDIRECT_URI="http://127.0.0.1:9/cb"
HUREN_PASSWORD="Bench-pass-123"
# ----------------------------------------------------------------------------------------------

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
HUREN="$ROOT/.venv/bin/huren"
TOOL=("$PY" "$ROOT/bench/benchtool.py")
PEER_DIR="$ROOT/bench/peer"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/out/$STAMP"
RESULTS="$OUT/results.jsonl"
mkdir -p "$OUT"
: >"$RESULTS"

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

[ -x "$PY" ] || die "no $PY (run 'make install' first)"
case " $SERVERS " in *" huren "*|*" peer "*) ;; *) die "BENCH_SERVERS must name huren and/or peer" ;; esac

if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  ON_SERVER=(taskset -c "$SERVER_CPU")
  ON_LOAD=(taskset -c "$LOAD_CPU")
  CORE="cpu$SERVER_CPU"
else
  PIN=0
  ON_SERVER=()
  ON_LOAD=()
  CORE=cpu
fi

# ---- tools ----------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "wrk is missing (apt-get install wrk)"
  log "installing wrk (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
command -v node >/dev/null || die "node is missing"

if [[ " $SERVERS " == *" peer "* ]]; then
  want="$(node -p "require('$PEER_DIR/package.json').dependencies['oidc-provider']")"
  have="$(node -p "try { require('$PEER_DIR/node_modules/oidc-provider/package.json').version } catch { '' }")"
  if [ "$want" != "$have" ]; then
    log "installing the peer (oidc-provider $want) into bench/peer"
    (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi

# ---- cleanup --------------------------------------------------------------------------------
PIDS=()
TMPDIRS=()
cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  for d in "${TMPDIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- is the machine quiet? -----------------------------------------------------------------
BUSY_BEFORE="$("${TOOL[@]}" busy --seconds 2)"
log "CPU busy before the run: $BUSY_BEFORE cores (of $(nproc))"
if "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.15 else 1)' "$BUSY_BEFORE"; then
  log "WARNING: other processes are using the CPU; the figures will be low and noisy"
fi

# ---- hardware reference ---------------------------------------------------------------------
log "openssl speed -seconds 3 rsa2048 (on the servers' CPU)"
"${ON_SERVER[@]}" openssl speed -seconds 3 rsa2048 >"$OUT/openssl-speed.txt" 2>&1
RSA_SIGN="$(awk '/^rsa 2048 bits/ {print $6}' "$OUT/openssl-speed.txt" | tail -1)"
log "  rsa2048 sign/s: ${RSA_SIGN:-?}"

declare -A ISSUER TOKEN_EP AUTH_CC AUTH_RP RP_ID PGID
VERIFIER="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')"

# ---- the peer -------------------------------------------------------------------------------
start_peer() {
  local port mint_port s_cc s_rp
  port="$("${TOOL[@]}" free-port)"
  mint_port="$("${TOOL[@]}" free-port)"
  while [ "$mint_port" = "$port" ]; do mint_port="$("${TOOL[@]}" free-port)"; done
  s_cc="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')"
  s_rp="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')"
  (cd "$PEER_DIR" && NODE_ENV=production exec setsid "${ON_SERVER[@]}" node server.mjs \
    --port "$port" --mint-port "$mint_port" --secret-cc "$s_cc" --secret-rp "$s_rp" \
    >"$OUT/peer.log" 2>&1) &
  PIDS+=("$!")
  PGID[peer]="$!"
  ISSUER[peer]="http://127.0.0.1:$port"
  PEER_MINT_URL="http://127.0.0.1:$mint_port/mint"
  AUTH_CC[peer]="$("${TOOL[@]}" basic bench-cc "$s_cc")"
  AUTH_RP[peer]="$("${TOOL[@]}" basic bench-rp "$s_rp")"
  RP_ID[peer]=bench-rp
  "${TOOL[@]}" wait "${ISSUER[peer]}" --seconds "$READY_SECONDS" \
    || { tail -20 "$OUT/peer.log" >&2; die "the peer did not start"; }
}

# ---- Huren ----------------------------------------------------------------------------------
# json_field NAME < text: the field of the (last) JSON object printed by a `huren ... --json` command
json_field() {
  "$PY" -c '
import json, sys
text = sys.stdin.read()
try:
    obj = json.loads(text)
except ValueError:
    obj = json.loads(text[text.index("{") : text.rindex("}") + 1])
print(obj[sys.argv[1]])' "$1"
}

start_huren() {
  local port data cc rp
  [ -x "$HUREN" ] || die "no $HUREN (run 'make install')"
  port="$("${TOOL[@]}" free-port)"
  data="$(mktemp -d /tmp/huren-bench.XXXXXX)"
  TMPDIRS+=("$data")
  export HUREN_DATA_DIR="$data" HUREN_ISSUER="http://127.0.0.1:$port" HUREN_CODE_TTL=600
  {
    "$HUREN" db upgrade
    cc="$("$HUREN" client create --name bench-cc --grant-type client_credentials --scope api --json)"
    rp="$("$HUREN" client create --name bench-rp --redirect-uri "$REDIRECT_URI" --trusted \
      --scope openid --json)"
    printf '%s\n' "$HUREN_PASSWORD" | "$HUREN" user create --username bench --password-stdin
  } >>"$OUT/huren-setup.log" 2>&1 || { tail -20 "$OUT/huren-setup.log" >&2; die "huren setup failed"; }
  AUTH_CC[huren]="$("${TOOL[@]}" basic -- "$(json_field client_id <<<"$cc")" \
    "$(json_field client_secret <<<"$cc")")"
  RP_ID[huren]="$(json_field client_id <<<"$rp")"
  AUTH_RP[huren]="$("${TOOL[@]}" basic -- "${RP_ID[huren]}" "$(json_field client_secret <<<"$rp")")"
  (exec setsid "${ON_SERVER[@]}" "$HUREN" serve --host 127.0.0.1 --port "$port" --workers 1 \
    $HUREN_ARGS >"$OUT/huren.log" 2>&1) &
  PIDS+=("$!")
  PGID[huren]="$!"
  ISSUER[huren]="http://127.0.0.1:$port"
  "${TOOL[@]}" wait "${ISSUER[huren]}" --seconds "$READY_SECONDS" \
    || { tail -20 "$OUT/huren.log" >&2; die "huren serve did not start"; }
  unset HUREN_DATA_DIR HUREN_ISSUER HUREN_CODE_TTL
}

# ---- codes ----------------------------------------------------------------------------------
mint_codes() { # server n file
  local server="$1" n="$2" file="$3"
  if [ "$server" = peer ]; then
    "${TOOL[@]}" mint-peer --mint-url "$PEER_MINT_URL" --n "$n" --verifier "$VERIFIER" --out "$file"
  else
    BENCH_PASSWORD="$HUREN_PASSWORD" "${ON_LOAD[@]}" "$PY" "$ROOT/bench/mint_huren_codes.py" \
      --issuer "${ISSUER[huren]}" --client-id "${RP_ID[huren]}" --redirect-uri "$REDIRECT_URI" \
      --username bench --verifier "$VERIFIER" --n "$n" --out "$file"
  fi
}

codes_for() { # expected_rps seconds -> how many codes to mint
  "$PY" -c 'import math,sys; r,s,f,m=map(float,sys.argv[1:]); print(int(min(m, math.ceil(r*s*f)+500)))' \
    "$1" "$2" "$CODE_FACTOR" "$MAX_CODES"
}

# ---- wrk ------------------------------------------------------------------------------------
# run_wrk server scenario phase round seconds [codes-file]; prints the result line; returns 3 if
# the run ran out of codes.
run_wrk() {
  local server="$1" scenario="$2" phase="$3" round="$4" seconds="$5" codes="${6:-}"
  local out="$OUT/wrk-$server-$scenario-$phase-$round.txt" args
  if [ "$scenario" = client_credentials ]; then
    args=(-- "${AUTH_CC[$server]}" api)
  else
    args=(-- "${AUTH_RP[$server]}" "$codes" "$REDIRECT_URI" "$VERIFIER" "$THREADS")
  fi
  local before after i
  for ((i = 0; i < QUIET_WAIT; i += 2)); do
    "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.15 else 1)' \
      "$("${TOOL[@]}" busy --seconds 2)" && break
    if [ "$i" -eq 0 ]; then log "  waiting up to ${QUIET_WAIT}s for other processes to leave the CPU"; fi
  done
  before="$("${TOOL[@]}" snapshot --pgid "${PGID[$server]}" --cpu "$CORE")"
  "${ON_LOAD[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout "$WRK_TIMEOUT" \
    -s "$ROOT/bench/wrk/$scenario.lua" "${TOKEN_EP[$server]}" "${args[@]}" >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk failed ($server $scenario)"; }
  after="$("${TOOL[@]}" snapshot --pgid "${PGID[$server]}" --cpu "$CORE")"
  local record=("${TOOL[@]}" wrk-result --wrk-output "$out" --results "$RESULTS"
    --server "$server" --round "$round" --before "$before" --after "$after")
  [ "$PIN" = 1 ] && record+=(--pinned)
  if [ "$phase" = measure ] && grep -q '"codes_exhausted":true' "$out"; then
    "${record[@]}" --phase discarded >&2
    return 3
  fi
  "${record[@]}" --phase "$phase" >&2
}

expected_rps() { # server factor -> its code_exchange rate so far, else factor * its
  local server="$1" factor="$2" code cc  # client_credentials rate, else 2000
  code="$("${TOOL[@]}" last-rps --results "$RESULTS" --server "$server" \
    --scenario code_exchange --skip-exhausted)"
  cc="$("${TOOL[@]}" last-rps --results "$RESULTS" --server "$server" --scenario client_credentials)"
  "$PY" -c 'import sys; c, cc, f = map(float, sys.argv[1:]); print(c if c > 0 else (cc * f if cc > 0 else 2000.0))' \
    "$code" "$cc" "$factor"
}

warmup() { # server scenario
  local server="$1" scenario="$2" n
  if [ "$scenario" = client_credentials ]; then
    run_wrk "$server" "$scenario" warmup 0 "$WARMUP"
  else
    n="$(codes_for "$(expected_rps "$server" 0.5)" "$WARMUP")"
    log "  minting $n $server codes for the warm-up"
    mint_codes "$server" "$n" "$OUT/codes-$server-warmup.txt"
    run_wrk "$server" "$scenario" warmup 0 "$WARMUP" "$OUT/codes-$server-warmup.txt" || true
  fi
}

measure() { # server scenario round
  local server="$1" scenario="$2" round="$3" n attempt file rc
  if [ "$scenario" = client_credentials ]; then
    run_wrk "$server" "$scenario" measure "$round" "$DURATION"
    return
  fi
  n="$(codes_for "$(expected_rps "$server" 1)" "$DURATION")"
  for attempt in 1 2; do
    file="$OUT/codes-$server-$round-$attempt.txt"
    log "  minting $n $server codes for round $round"
    mint_codes "$server" "$n" "$file"
    rc=0
    run_wrk "$server" "$scenario" measure "$round" "$DURATION" "$file" || rc=$?
    [ "$rc" -eq 3 ] || return 0
    if [ "$attempt" -eq 2 ] || [ "$n" -ge "$MAX_CODES" ]; then
      # record the exhausted run as the (invalid) measurement
      "${TOOL[@]}" wrk-result --wrk-output "$OUT/wrk-$server-$scenario-measure-$round.txt" \
        --results "$RESULTS" --server "$server" --phase measure --round "$round" >/dev/null
      return 0
    fi
    log "  $server ran out of codes; again with twice as many"
    n=$((n * 2 > MAX_CODES ? MAX_CODES : n * 2))
  done
}

check_server() { # server: one real exchange per scenario, tokens verified as RS256 JWTs
  local server="$1"
  "${TOOL[@]}" check --issuer "${ISSUER[$server]}" --scenario client_credentials \
    --auth "${AUTH_CC[$server]}" >"$OUT/check-$server-cc.json"
  mint_codes "$server" 1 "$OUT/codes-$server-check.txt"
  "${TOOL[@]}" check --issuer "${ISSUER[$server]}" --scenario code_exchange \
    --auth "${AUTH_RP[$server]}" --code-file "$OUT/codes-$server-check.txt" \
    --redirect-uri "$REDIRECT_URI" --verifier "$VERIFIER" >"$OUT/check-$server-code.json"
  log "  $server: $(cat "$OUT/check-$server-cc.json") $(cat "$OUT/check-$server-code.json")"
}

# ---- run ------------------------------------------------------------------------------------
SERVER_LIST=()
for s in $SERVERS; do SERVER_LIST+=("$s"); done
for s in "${SERVER_LIST[@]}"; do
  log "starting $s"
  "start_$s"
  TOKEN_EP[$s]="$("${TOOL[@]}" endpoint "${ISSUER[$s]}" token_endpoint)"
  log "  $s at ${ISSUER[$s]} (token endpoint ${TOKEN_EP[$s]})"
done

log "checking that both do the same work"
for s in "${SERVER_LIST[@]}"; do check_server "$s"; done
if [ "${#SERVER_LIST[@]}" -eq 2 ]; then
  for kind in cc code; do
    "$PY" - "$OUT/check-huren-$kind.json" "$OUT/check-peer-$kind.json" <<'PY' || true
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
if a["response_fields"] != b["response_fields"]:
    print(f"WARNING {a['scenario']}: Huren answers {a['response_fields']}, "
          f"the peer {b['response_fields']}: not the same work", file=sys.stderr)
    sys.exit(1)
PY
  done
fi

log "running: ${DURATION}s per run, $ROUNDS round(s), wrk -t$THREADS -c$CONNECTIONS," \
  "pinning=$PIN (servers on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU)"
for scenario in $SCENARIOS; do
  log "$scenario"
  for s in "${SERVER_LIST[@]}"; do warmup "$s" "$scenario"; done
  for round in $(seq 1 "$ROUNDS"); do
    order=("${SERVER_LIST[@]}")
    if [ $((round % 2)) -eq 0 ]; then order=(); for ((i=${#SERVER_LIST[@]}-1; i>=0; i--)); do order+=("${SERVER_LIST[$i]}"); done; fi
    for s in "${order[@]}"; do measure "$s" "$scenario" "$round"; done
  done
done

HUREN_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo -)"
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':(exclude)bench' 2>/dev/null)" ]; then
  HUREN_COMMIT+="-dirty"  # uncommitted changes outside bench/
fi
PEER_VERSION="$(node -p "require('$PEER_DIR/node_modules/oidc-provider/package.json').version" 2>/dev/null || echo -)"
"$PY" - "$OUT/meta.json" <<PY
import json, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
json.dump({
    "date": "$STAMP", "command": "make bench (bash bench/run.sh)",
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
                "os": platform.freedesktop_os_release().get("PRETTY_NAME", "?")},
    "huren_commit": "$HUREN_COMMIT",
    "huren_serve": "huren serve --host 127.0.0.1 --port PORT --workers 1",
    "oidc_provider": "$PEER_VERSION", "openssl": "$(openssl version | head -1)",
    "rsa2048_sign_per_s": float("${RSA_SIGN:-0}") or None,
    "duration": $DURATION, "warmup": $WARMUP, "threads": $THREADS, "connections": $CONNECTIONS,
    "rounds": $ROUNDS, "pinned": $PIN == 1, "cpu_busy_before_run": $BUSY_BEFORE, "server_cpu": "$SERVER_CPU", "load_cpu": "$LOAD_CPU",
    "servers": "$SERVERS".split(), "scenarios": "$SCENARIOS".split(),
}, open(sys.argv[1], "w"), indent=2)
PY
"${TOOL[@]}" report --results "$RESULTS" --meta "$OUT/meta.json" --out "$ROOT/bench/out/results-$STAMP.json"
cp "$ROOT/bench/out/results-$STAMP.json" "$ROOT/bench/out/latest.json"
