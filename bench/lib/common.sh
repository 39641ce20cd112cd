# bench/lib/common.sh - shared state and helpers for bench/run.sh (sourced, not run).
# Safety rules kept here: every process we start is recorded by PID and only those PIDs are
# signalled; every namespace we create is recorded and deleted on exit; everything runs under
# `timeout`; the 198.18.0.0/16 benchmarking range (RFC 2544) exists only inside our namespaces.

BENCH_PIDS=()   # PIDs this harness started (outer `timeout` wrappers and the servers under them)
BENCH_NS=()     # network namespaces this harness created
NICE_PFX=()     # `nice -n N` before the measured processes (--nice), empty = as is

blog() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "${OUT:-/tmp}/bench.log" >&2; }

# CPU ticks (user+system, all threads) of a process, and the kernel's tick rate.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)
status_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status" 2>/dev/null; }
now_ns() { date +%s%N; }

# Host-wide busy ticks and total ticks (for "other tenants" CPU during a run).
host_ticks() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; print b, b+$5+$6}' /proc/stat; }

# The block device under $OUT and its counters: "io_ticks_ms writes_completed flush_ms flushes"
# (/proc/diskstats fields 13, 8, 20, 19: io_ticks does not include the cache flushes that every
# fsync ends with, which are counted apart since Linux 5.5). During a point, the disk's busy % tells whether fsync-bound servers (ISC,
# dhcpd-ts) waited on a disk other tenants were also using.
disk_ticks() {
  if [ -z "${DISK_DEV:-}" ]; then
    DISK_DEV=$(basename "$(df --output=source "${OUT:-/}" 2>/dev/null | tail -1)")
    grep -q " $DISK_DEV " /proc/diskstats || DISK_DEV=none
  fi
  awk -v d="$DISK_DEV" '$3==d{print $13, $8, $20+0, $19+0; f=1} END{if (!f) print "0 0 0 0"}' /proc/diskstats
}

# PID holding UDP port 67 inside namespace $1 (only our server runs there).
udp67_pid() { ip netns exec "$1" ss -Hlunp 'sport = :67' 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

# Stop one process we started: SIGTERM, up to $2 seconds (default 10), then SIGKILL.
stop_pid() {
  local p=$1 grace=${2:-10} k
  [ -n "$p" ] || return 0
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null
  for ((k = 0; k < grace * 10; k++)); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null
}

# Bounded wait for a quiet host: until other processes use < $1 % of one core over 1 s,
# at most $2 seconds. Prints the busy % of the last window.
quiet_gate() {
  local limit=$1 max=$2 t0 a b pct
  t0=$(date +%s)
  while :; do
    a=$(host_ticks); sleep 1; b=$(host_ticks)
    pct=$(awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN{split(a,x," ");split(b,y," ");t=y[2]-x[2];if(t<=0){print 0;exit};printf "%.0f",100*n*(y[1]-x[1])/t}')
    [ "$pct" -lt "$limit" ] && break
    [ $(( $(date +%s) - t0 )) -ge "$max" ] && break
  done
  echo "$pct"
}

bench_cleanup() {
  local p ns
  trap - EXIT INT TERM
  for p in "${BENCH_PIDS[@]}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${BENCH_PIDS[@]}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
  for ns in "${BENCH_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  BENCH_NS=()
  case ${TS_SNAP:-} in /tmp/dhcpd-ts-bench-dist.*) rm -rf "$TS_SNAP";; esac
}
