#!/usr/bin/env bash
# bench/run.sh - dhcpd-ts beside ISC dhcpd 4.4 (and Kea memfile when installed): DORA rate sweep,
# failover pair, config parse time, start-up with a big lease store, memory per lease.
# Root only (network namespaces). `make bench` runs it after `make build`. See bench/README.md.
#
# Usage: bash bench/run.sh [options]
#   --quick              short smoke run: sweep at 100/250/1000/3000/unlimited, 1 repetition, 5 s
#                        points; parse; start-up with 0 and 100,000 leases; no failover section
#                        unless --only names it (~6-7 min on a busy 2-core machine)
#   --only LIST          sections to run, comma separated: sweep,failover,parse,startup (default all)
#   --servers "LIST"     servers, space or comma separated (default "dhcpd-ts isc kea"; kea only if
#                        installed; the failover section runs the pairs of isc and dhcpd-ts among them)
#   --rates "LIST"       offered DORA/s, space or comma separated, 0 = unpaced flood (default
#                        "100 250 500 1000 1500 2000 3000 4000 5000": high enough for Kea's ceiling)
#   --skip-drop PCT      sweep: once a server lost >= PCT % at a rate in a repetition, its higher
#                        rates in that repetition are recorded as skipped, not run (they cannot be
#                        sustainable; saves the minutes ISC spends far past its ceiling); default
#                        20, 0 = run every point
#   --fo-rates "LIST"    offered DORA/s for the failover pairs (default "100 250 500 1000 2000")
#   --reps N             repetitions per point (default 3)
#   --period S           perfdhcp test period per point in seconds (default 10)
#   --startup "LIST"     lease counts for the start-up/memory test (default "0 100000 1000000")
#   --startup-reps N / --parse-reps N   start-ups per lease count (default 3) / parse runs (default 5)
#   --out DIR            results directory (default bench/results/run-<UTC timestamp>)
#   --server-cpu C / --client-cpu C   taskset CPUs (default 1 / 0; "" = unpinned)
#   --quiet-max S        before each point wait at most S s for the host to be quiet (default 10)
#   --lat-max-rate R     capture per-exchange latency (p50/p99 DORA, needs tcpdump) at offered rates
#                        up to R (default 3000); the unpaced flood is captured 1 exchange in 16 (its
#                        strict goodput and latency)
#   --no-latency         no latency capture
#   --flood-clients N    distinct clients (MACs) in the unpaced flood (default 2000000)
#   --nice N             run the servers, perfdhcp and tcpdump at nice N (e.g. -10: shields the
#                        measurement from other tenants' CPU load, at their expense; default 0)
#   --install-kea        apt-get install kea-dhcp4-server when it is missing (what `make bench` does)
#   --profile            run dhcpd-ts under `node --cpu-prof` (profiles in runs/*/cpuprof/, summary
#                        with `node bench/profile-summary.mjs FILE`); its figures are then not comparable
#   --report DIR         only re-render DIR/summary.md and the chart from DIR's CSVs
#   -h, --help
set -uo pipefail
ORIG_ARGS=("$@")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

TS_PROFILE=0; QUICK=0; ONLY="sweep,failover,parse,startup"; SERVERS="dhcpd-ts isc kea"
RATES="100 250 500 1000 1500 2000 3000 4000 5000"; SKIP_DROP=20; FO_RATES="100 250 500 1000 2000"
REPS=3; PERIOD=10; CLIENTS=60000; STARTUP_COUNTS="0 100000 1000000"; OUT=""
SRV_CPUS=1; CLI_CPUS=0; QUIET_PCT=30; QUIET_MAX=10; REPORT_ONLY=""
PARSE_HOSTS=50000; PARSE_SUBNETS=500; PARSE_REPS=5; STARTUP_REPS=3; STARTUP_MAX=120
READY_MAX=30; FO_READY_MAX=60; FO_SNAPSHOT_MAX=480
LAT=1; LAT_MAX_RATE=3000; FLOOD_CLIENTS=2000000; FLOOD_SAMPLE=16; INSTALL_KEA=0; NICE=0
set_only=""; set_sreps=""; set_preps=""; set_rates=""; set_reps=""; set_period=""; set_startup=""; set_fo=""

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1;;
    --only) ONLY=$2; set_only=1; shift;;
    --servers) SERVERS=${2//,/ }; shift;;
    --rates) set_rates=${2//,/ }; shift;;
    --fo-rates) set_fo=${2//,/ }; shift;;
    --skip-drop) SKIP_DROP=$2; shift;;
    --reps) set_reps=$2; shift;;
    --period) set_period=$2; shift;;
    --startup) set_startup=$2; shift;;
    --startup-reps) set_sreps=$2; shift;;
    --parse-reps) set_preps=$2; shift;;
    --out) OUT=$2; shift;;
    --server-cpu) SRV_CPUS=$2; shift;;
    --client-cpu) CLI_CPUS=$2; shift;;
    --quiet-max) QUIET_MAX=$2; shift;;
    --report) REPORT_ONLY=$2; shift;;
    --profile) TS_PROFILE=1;;
    --lat-max-rate) LAT_MAX_RATE=$2; shift;;
    --no-latency) LAT=0;;
    --flood-clients) FLOOD_CLIENTS=$2; shift;;
    --install-kea) INSTALL_KEA=1;;
    --nice) NICE=$2; shift;;
    -h|--help) usage; exit 0;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  # no failover section unless asked for (--only): ISC's pair needs 3-6 min to build its balanced
  # starting snapshot on this kind of machine, more than the rest of the smoke run
  [ -n "$set_only" ] || ONLY="sweep,parse,startup"
  RATES="100 250 1000 3000 0"; FO_RATES="250 1000"; REPS=1; PERIOD=5; STARTUP_COUNTS="0 100000"
  PARSE_REPS=2; STARTUP_REPS=1; QUIET_MAX=3; FO_READY_MAX=30; FO_SNAPSHOT_MAX=300
fi
[ -n "$set_rates" ] && RATES=$set_rates; [ -n "$set_reps" ] && REPS=$set_reps
[ -n "$set_period" ] && PERIOD=$set_period; [ -n "$set_startup" ] && STARTUP_COUNTS=$set_startup
[ -n "$set_fo" ] && FO_RATES=$set_fo
[ -n "$set_sreps" ] && STARTUP_REPS=$set_sreps; [ -n "$set_preps" ] && PARSE_REPS=$set_preps

# --nice with the kernel's autogroups on (sched_autogroup_enabled=1, the default on desktop-style kernels):
# CPU is shared between sessions first, and a process's nice value only counts within its own session, so
# `nice -n -10` alone gives the measured processes no more CPU against other users' sessions. The bench then
# runs in a session of its own (setsid) and gives that session's autogroup the nice value (proc(5)
# /proc/PID/autogroup), which is what --nice means.
AUTOGROUP_NOTE=""
if [ "$NICE" != 0 ] && [ -z "$REPORT_ONLY" ] && [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ]; then
  if [ -z "${BENCH_OWN_SESSION:-}" ] && command -v setsid >/dev/null; then
    BENCH_OWN_SESSION=1 exec setsid -w bash "${BASH_SOURCE[0]}" "${ORIG_ARGS[@]}"
  fi
  if echo "$NICE" > "/proc/$$/autogroup" 2>/dev/null; then AUTOGROUP_NOTE=" (autogroup of the bench's own session: $(cat /proc/$$/autogroup))"
  else AUTOGROUP_NOTE=" (could not set the session's autogroup nice: other sessions still share the CPU equally)"; fi
fi

. "$BENCH/lib/common.sh"
. "$BENCH/lib/topology.sh"
. "$BENCH/lib/servers.sh"
. "$BENCH/lib/latency.sh"
[ "$NICE" != 0 ] && NICE_PFX=(nice -n "$NICE")
. "$BENCH/lib/sweep.sh"
. "$BENCH/lib/report.sh"

chart() {  # gnuplot when installed, else the self-contained Node renderer
  local csv=$1/results.csv
  grep -q '^sweep,' "$csv" 2>/dev/null || return 0
  node "$BENCH/chart.mjs" "$csv" "$1/sweep.png" sweep >/dev/null && echo "chart: $1/sweep.png"
  grep -q '^failover,' "$csv" && node "$BENCH/chart.mjs" "$csv" "$1/failover.png" failover >/dev/null && echo "chart: $1/failover.png"
}

if [ -n "$REPORT_ONLY" ]; then
  OUT=$REPORT_ONLY; . "$BENCH/lib/extras.sh"; render_extras; render_summary "$OUT"; chart "$OUT"; cat "$OUT/summary.md"; exit 0
fi

[ "$(id -u)" = 0 ] || { echo "bench/run.sh must run as root (network namespaces)" >&2; exit 1; }
for t in ip ss perfdhcp timeout taskset awk sqlite3 node; do
  command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 1; }
done
[ -n "$OUT" ] || OUT=$BENCH/results/run-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT/runs" && OUT=$(cd "$OUT" && pwd) || exit 1
. "$BENCH/lib/extras.sh"
[ -f "$OUT/results.csv" ] || echo "$SWEEP_HDR" > "$OUT/results.csv"

trap bench_cleanup EXIT
trap 'blog "interrupted"; exit 130' INT TERM

# one benchmark at a time on this machine
exec 8>/tmp/dhcpd-ts-bench.lock
blog "waiting for the benchmark lock (another bench/run.sh may be running), at most ${BENCH_LOCK_WAIT:-600}s"
flock -w "${BENCH_LOCK_WAIT:-600}" 8 || { echo "another bench/run.sh is running" >&2; exit 1; }

case " $SERVERS " in *" kea "*) [ "$INSTALL_KEA" = 1 ] && ensure_kea;; esac
if [ "$LAT" = 1 ] && { ! command -v tcpdump >/dev/null || [ ${#LAT_CMD[@]} = 0 ]; }; then
  blog "latency capture off: needs tcpdump and $LAT_JS (make build)"; LAT=0
fi
avail=()
for s in $SERVERS; do
  if server_available "$s"; then avail+=("$s"); else blog "server $s not available here: skipped (install it for the ratio)"; fi
done
# one block per invocation: sections run separately into the same --out keep each one's conditions
[ -s "$OUT/meta.txt" ] && echo >> "$OUT/meta.txt"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  host: $(hostname)  cpus: $(nproc)  kernel: $(uname -r)"
  echo "cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "sections: $ONLY  servers: ${avail[*]}  rates: $RATES  failover rates: $FO_RATES  reps: $REPS  period: ${PERIOD}s  server cpu: ${SRV_CPUS:-any}  perfdhcp cpu: ${CLI_CPUS:-any}  latency capture: $([ "$LAT" = 1 ] && echo "rates <= $LAT_MAX_RATE" || echo off)  flood clients: $FLOOD_CLIENTS  nice: $NICE$AUTOGROUP_NOTE"
  echo "versions: $(perfdhcp -v 2>&1 | head -1) | $($ISC_BIN --version 2>&1 | head -1) | dhcpd-ts $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)${TS_BIN_GIVEN:+ (TS_BIN=$TS_BIN)} | kea $([ -x "$KEA_BIN" ] && $KEA_BIN -v 2>&1 | head -1 || echo not-installed)"
  f=$OUT/.dsync-probe
  echo "disk: O_DSYNC 256-byte appends/s right now: $(dd if=/dev/zero of="$f" bs=256 count=1000 oflag=dsync,append conv=notrunc 2>&1 | awk '/copied/{for(i=1;i<=NF;i++) if ($i=="s,") t=$(i-1); if (t>0) printf "%.0f", 1000/t}')"; rm -f "$f"
} > "$OUT/meta.new"
cat "$OUT/meta.new" >> "$OUT/meta.txt"; cat "$OUT/meta.new" >&2; rm -f "$OUT/meta.new"

sweep_stale_ns
topology_up || { blog "could not build the namespaces"; exit 1; }
blog "namespaces up: ${BENCH_NS[*]}"

has() { case ",$ONLY," in *",$1,"*) return 0;; esac; return 1; }

if has sweep; then
  # repetition is the outer loop and servers are interleaved: slow drift in the shared
  # machine's load hits every server alike
  for ((rep = 1; rep <= REPS; rep++)); do
    declare -A failed_at=()   # server -> "rate drop%" of its first point in this repetition with >= SKIP_DROP % lost
    for rate in $RATES; do
      for s in "${avail[@]}"; do
        if [ "$rate" -gt 0 ] && [ -n "${failed_at[$s]:-}" ] && [ "$rate" -gt "${failed_at[$s]%% *}" ]; then
          skip_point sweep "$s" "$rate" "$rep" "skipped: ${failed_at[$s]#* } % lost at ${failed_at[$s]%% *}/s in this repetition"; continue
        fi
        run_point sweep "$s" "$rate" "$rep"
        if [ "$rate" -gt 0 ] && [ "$SKIP_DROP" != 0 ]; then
          d=$(tail -1 "$OUT/results.csv" | awk -F, '{ print ($21 != "") ? 100 : $8 + 0 }')
          awk -v d="$d" -v t="$SKIP_DROP" 'BEGIN { exit !(d >= t) }' && failed_at[$s]="$rate $d"
        fi
      done
    done
  done
fi

if has failover; then
  prepare_isc_failover_snapshot
  saved_ready=$READY_MAX; READY_MAX=$FO_READY_MAX
  ts_pair_ok=1
  for ((rep = 1; rep <= REPS; rep++)); do
    for rate in $FO_RATES; do
      case " $SERVERS " in *" isc "*) run_point failover isc "$rate" "$rep";; esac
      case " $SERVERS " in *" dhcpd-ts "*) ;; *) continue;; esac
      if [ "$ts_pair_ok" = 1 ]; then
        run_point failover dhcpd-ts "$rate" "$rep"
        # a pair that never reaches normal will not at the next rate either: say so once
        tail -1 "$OUT/results.csv" | grep -q 'pair-not-normal' && ts_pair_ok=0
      fi
    done
  done
  READY_MAX=$saved_ready
fi

has parse && bench_parse
has startup && bench_startup

echo "load average at end ($(date -u +%H:%M:%S) UTC): $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/meta.txt"
render_extras
render_summary "$OUT"
chart "$OUT"
cat "$OUT/summary.md"
blog "results: $OUT"
