# bench/lib/latency.sh - per-exchange latency percentiles for a sweep point (sourced by bench/run.sh).
#
# perfdhcp 2.2 reports only min/avg/max/std of its DISCOVER-OFFER and REQUEST-ACK delays, and its
# `-x t` timer dump carries no xid (a DISCOVER cannot be joined to its ACK). So while perfdhcp runs,
# tcpdump captures the client's interface (cli0, in the client namespace: it sees every server's
# replies, also both failover peers') with a 300-byte snap length into tmpfs; bench/latency.ts then
# pairs DISCOVER/OFFER/REQUEST/ACK by (xid, chaddr) and prints p50/p90/p99/max of DISCOVER->ACK
# (DORA), p50/p99 of DISCOVER->OFFER and REQUEST->ACK. tcpdump is pinned to perfdhcp's CPU so the
# server's core is untouched; its CPU is reported (cap_cpu_pct) and left out of "other CPU".
# Points above --lat-max-rate are not captured (the capture would compete with a busy
# generator). The unpaced flood is captured with a sample: a BPF filter keeps the exchanges whose
# xid's low bits are 0 (perfdhcp numbers its xids sequentially, so 1 in FLOOD_SAMPLE exactly), which
# gives its strict goodput (cap_goodput: exchanges whose OFFER and ACK each came within perfdhcp's
# 1 s drop time, per second; perfdhcp's own count includes replies that came seconds late).

LAT_HDR="lat_discovers,lat_answered,dora_p50_ms,dora_p90_ms,dora_p99_ms,dora_max_ms,do_p50_ms,do_p99_ms,ra_p50_ms,ra_p99_ms,cap_goodput,cap_drops,cap_cpu_pct,cap_sample"
LAT_EMPTY=",,,,,,,,,,,,,"
LAT_JS=${LAT_JS:-$ROOT/dist/bench/latency.js}
# the compiled module after `make build`; else the TypeScript source through tsx (dev checkout)
if [ -f "$LAT_JS" ] && ! [ "$ROOT/bench/latency.ts" -nt "$LAT_JS" ]; then LAT_CMD=(node "$LAT_JS")
elif [ -f "$ROOT/node_modules/tsx/package.json" ]; then LAT_CMD=(node --import tsx "$ROOT/bench/latency.ts")
else LAT_CMD=(); fi

# Should this point be captured? $1 offered rate (0 = unlimited). Prints the sample divisor.
lat_sample() {
  [ "${LAT:-1}" = 1 ] && command -v tcpdump >/dev/null && [ ${#LAT_CMD[@]} -gt 0 ] || return 1
  if [ "$1" -eq 0 ]; then echo "${FLOOD_SAMPLE:-16}"; return 0; fi
  [ "$1" -le "${LAT_MAX_RATE:-3000}" ] && echo 1
}

# Start tcpdump on cli0 in the client namespace. $1 point dir, $2 sample divisor (a power of 2).
# Sets CAP_OUTER (the wrapper shell's PID), CAP_FILE, CAP_PIDF, CAP_SAMPLE. Waits (bounded) until
# tcpdump says it is listening.
lat_start() {
  local dir=$1 pin=() k filter='udp and (port 67 or port 68)'
  CAP_SAMPLE=$2
  # xid = bytes 4-7 of the UDP payload: udp[12..15]; its low bits select the sample
  [ "$CAP_SAMPLE" -gt 1 ] && filter="$filter and (udp[15] & $((CAP_SAMPLE - 1)) = 0)"
  local shm=/dev/shm; [ -d "$shm" ] && [ -w "$shm" ] || shm=$dir
  CAP_FILE=$shm/dtb$$-cap.pcap; CAP_PIDF=$dir/tcpdump.pid
  rm -f "$CAP_FILE" "$CAP_PIDF"
  [ -n "$CLI_CPUS" ] && pin=(taskset -c "$CLI_CPUS")
  # The wrapper reports tcpdump's CPU (its waited-for children) when tcpdump has exited; tcpdump
  # itself runs under timeout (bounded lifetime), whose PID goes to the pid file so that exactly
  # that process gets the SIGTERM (timeout passes it on to tcpdump, which then flushes the file).
  ip netns exec "$NS_C" sh -c 'pidf=$1; shift; "$@" & echo $! > "$pidf"; wait $!; rc=$?; echo "CAP_TICKS $(awk "{print \$16+\$17}" /proc/$$/stat)" >&2; exit $rc' \
    sh "$CAP_PIDF" timeout -k 5 $((PERIOD + 40)) "${NICE_PFX[@]}" "${pin[@]}" tcpdump -i "$CLI_IF" -n -p -s 300 -B 32768 -Z root -w "$CAP_FILE" "$filter" \
    > "$dir/tcpdump.err" 2>&1 < /dev/null &
  CAP_OUTER=$!
  BENCH_PIDS+=("$CAP_OUTER")
  for ((k = 0; k < 50; k++)); do grep -q 'listening on' "$dir/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
  [ -s "$CAP_PIDF" ] && BENCH_PIDS+=("$(cat "$CAP_PIDF")")
}

# Stop the capture (in the shell that started it: it waits for tcpdump to flush and exit).
lat_stop() {
  local p; p=$(cat "$CAP_PIDF" 2>/dev/null)
  [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
  wait "$CAP_OUTER" 2>/dev/null
}

# The percentiles of the stopped capture. $1 point dir, $2 seconds the point lasted (for CPU %).
# Prints the LAT_HDR fields (empty latency fields when the capture failed); deletes the capture.
lat_result() {
  local dir=$1 secs=$2 drops ticks row=""
  drops=$(awk '/packets dropped by kernel/{print $1}' "$dir/tcpdump.err")
  ticks=$(awk '/^CAP_TICKS/{print $2}' "$dir/tcpdump.err")
  if [ -s "$CAP_FILE" ]; then
    row=$(cd "$ROOT" && timeout 120 "${LAT_CMD[@]}" "$CAP_FILE" --window "$PERIOD" --skip 1 --drop-ms 1000 --sample "$CAP_SAMPLE" 2>> "$dir/tcpdump.err")
  fi
  rm -f "$CAP_FILE"
  [ -n "$row" ] || row=",,,,,,,,,,"
  echo "$row,${drops:-},$(awk -v t="${ticks:-0}" -v hz="$CLK_TCK" -v s="$secs" 'BEGIN{ if (s > 0) printf "%.0f", 100 * t / hz / s }'),$CAP_SAMPLE"
}
