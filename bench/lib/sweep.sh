# bench/lib/sweep.sh - one measurement point (fresh server, empty store, one perfdhcp run) and
# the rate sweep (sourced by bench/run.sh).

SWEEP_HDR="section,server,offered_rate,rep,achieved_rate,disc_sent,acks,drop_pct,do_avg_ms,do_max_ms,ra_avg_ms,ra_max_ms,srv_cpu_pct,perf_cpu_pct,other_cpu_pct,vmhwm_kb,leases_persisted,startup_s,loadavg1,detail,error,lat_discovers,lat_answered,dora_p50_ms,dora_p90_ms,dora_p99_ms,dora_max_ms,do_p50_ms,do_p99_ms,ra_p50_ms,ra_p99_ms,cap_goodput,cap_drops,cap_cpu_pct,cap_sample,disk_busy_pct,disk_writes_per_s,disk_flush_pct,disk_flushes_per_s"

# perfdhcp's output -> "achieved,disc_sent,acks,drop_pct,do_avg,do_max,ra_avg,ra_max".
# achieved = steady ACK rate over the sending phase, from the cumulative 1 s reports (`-t 1`):
# ACKs between the first report and the last report taken while still sending, per second.
# (perfdhcp's "Rate:" divides by the whole run including the -W exit wait, so it under-reports.)
# The sending phase ends at the first report where all $2 DISCOVERs were sent ($2 = 0: no count
# limit, as in the unpaced flood) or at report $3 (the test period).
parse_perfdhcp() {  # $1 file, $2 exchanges requested (0 = no limit), $3 period
  awk -v n="$2" -v period="$3" '
    /^sent: [0-9]+\/[0-9]+; received: [0-9]+\/[0-9]+;/ {
      k++; split($2, s, "/"); disc[k] = s[1] + 0; split($4, r, "/"); sub(/;$/, "", r[2]); ack[k] = r[2] + 0 }
    /^\*\*\*Statistics for: DISCOVER-OFFER/ { sec = "do" }
    /^\*\*\*Statistics for: REQUEST-ACK/ { sec = "ra" }
    /^sent packets:/ { v[sec "sent"] = $3 } /^received packets:/ { v[sec "recv"] = $3 }
    /^avg delay:/ { v[sec "avg"] = $3 } /^max delay:/ { v[sec "max"] = $3 }
    END {
      last = k; for (i = 1; i <= k; i++) if ((n > 0 && disc[i] >= n) || i >= period) { last = i; break }
      sent = v["dosent"] + 0; acks = v["rarecv"] + 0
      if (last >= 3) ach = (ack[last] - ack[1]) / (last - 1); else ach = acks / period
      drop = (sent > 0) ? 100 * (sent - acks) / sent : 100
      printf "%.1f,%d,%d,%.2f,%s,%s,%s,%s\n", ach, sent, acks, drop, v["doavg"] + 0, v["domax"] + 0, v["raavg"] + 0, v["ramax"] + 0 }' "$1"
}

# One point: $1 section (sweep|failover), $2 server, $3 rate (0 = unlimited), $4 rep.
# Appends a row to $OUT/results.csv.
run_point() {
  local section=$1 s=$2 rate=$3 rep=$4 peers=1 fo=0 dir err="" i
  [ "$section" = failover ] && { peers=2; fo=1; }
  dir=$OUT/runs/$section-$s/r$rate-$rep
  rm -rf "$dir"; mkdir -p "$dir"
  local busy; busy=$(quiet_gate "$QUIET_PCT" "$QUIET_MAX")
  local roles=(none none)
  [ "$fo" = 1 ] && roles=(primary secondary)
  for ((i = 0; i < peers; i++)); do
    [ "$fo" = 1 ] && [ -f "$OUT/cache/isc-failover/dhcpd$i.leases" ] && cp "$OUT/cache/isc-failover/dhcpd$i.leases" "$dir/dhcpd$i.leases"
    server_conf "$s" "$dir" "${roles[$i]}" "$i"
  done
  local life=$((PERIOD + READY_MAX + 60)) outer=() pid=() t0 t1
  t0=$(now_ns)
  for ((i = 0; i < peers; i++)); do start_server "$s" "$dir" "$i" "$life"; outer[$i]=$SRV_OUTER; done
  for ((i = 0; i < peers; i++)); do
    pid[$i]=$(wait_ready "$s" "$dir" "$i" "$fo" "$READY_MAX" "${outer[$i]}")
    if [ -z "${pid[$i]}" ]; then
      if [ "$fo" = 1 ]; then err="pair-not-normal-in-${READY_MAX}s"; else err="server-not-ready"; fi
      break
    fi
    BENCH_PIDS+=("${pid[$i]}")
  done
  t1=$(now_ns)
  local startup; startup=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1e9}')
  local n=$CLIENTS args row=",,,,,,," c0=() c1=() h0 h1 w0 w1 pc=0 prc=0 lat=$LAT_EMPTY dk0 dk1 disk=",,,"
  CAP_TICKS_LAST=0
  if [ -z "$err" ]; then
    sleep 0.5
    if [ "$rate" -gt 0 ]; then
      n=$((rate * PERIOD)); [ "$n" -gt "$CLIENTS" ] && n=$CLIENTS
      args=(-4 -l "$CLI_IF" -R "$CLIENTS" -n "$n" -p "$PERIOD" -d 1 -W 2000000 -t 1 -x aei -r "$rate")
    else
      # The unpaced flood lasts the whole period (no -n: with -n perfdhcp overshoots it by 2-3x in
      # ~3 s, too short for a steady state) and draws from FLOOD_CLIENTS MACs, so every DISCOVER
      # is still a brand-new client; goodput = ACKs/s over the period.
      n=0
      args=(-4 -l "$CLI_IF" -R "$FLOOD_CLIENTS" -p "$PERIOD" -d 1 -W 2000000 -t 1 -x aei)
    fi
    local cap=0 sample; sample=$(lat_sample "$rate") && { lat_start "$dir" "$sample"; cap=1; }
    local ppin=(); [ -n "$CLI_CPUS" ] && ppin=(taskset -c "$CLI_CPUS")
    for ((i = 0; i < peers; i++)); do c0[$i]=$(cpu_ticks "${pid[$i]}"); done
    [ -z "${DISK_DEV:-}" ] && disk_ticks > /dev/null   # resolve the device once, in this shell
    h0=$(host_ticks); dk0=$(disk_ticks); w0=$(now_ns)
    echo "perfdhcp ${args[*]}" > "$dir/perfdhcp.cmd"
    # The inner shell reports perfdhcp's CPU (its children's ticks) after it exits.
    ip netns exec "$NS_C" sh -c 'timeout -k 5 "$@"; rc=$?; echo "PERF_TICKS $(awk "{print \$16+\$17}" /proc/$$/stat)"; exit $rc' \
      sh $((PERIOD + 25)) "${NICE_PFX[@]}" "${ppin[@]}" perfdhcp "${args[@]}" > "$dir/perfdhcp.out" 2>&1 < /dev/null &
    local pp=$!; BENCH_PIDS+=("$pp"); wait "$pp"; prc=$?
    h1=$(host_ticks); dk1=$(disk_ticks); w1=$(now_ns)
    disk=$(awk -v a="$dk0" -v b="$dk1" -v w0="$w0" -v w1="$w1" 'BEGIN{ split(a,x," "); split(b,y," "); s=(w1-w0)/1e9; if (s<=0) { print ",,,"; exit }
      printf "%.0f,%.0f,%.0f,%.0f", 100*(y[1]-x[1])/1000/s, (y[2]-x[2])/s, 100*(y[3]-x[3])/1000/s, (y[4]-x[4])/s }')
    for ((i = 0; i < peers; i++)); do c1[$i]=$(cpu_ticks "${pid[$i]}"); done
    if [ "$cap" = 1 ]; then
      lat_stop
      lat=$(lat_result "$dir" "$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", (b-a)/1e9}')")
      CAP_TICKS_LAST=$(awk '/^CAP_TICKS/{print $2}' "$dir/tcpdump.err"); CAP_TICKS_LAST=${CAP_TICKS_LAST:-0}
    fi
    # perfdhcp -x e repeats its exit reason on every loop of the exit wait: keep one of each
    awk '!(/^(reached test-period\.|Reached max requests limit\.|Interrupted)$/ && seen[$0]++)' "$dir/perfdhcp.out" > "$dir/p.tmp" && mv "$dir/p.tmp" "$dir/perfdhcp.out"
    row=$(parse_perfdhcp "$dir/perfdhcp.out" "$n" "$PERIOD")
    pc=$(awk '/^PERF_TICKS/{print $2}' "$dir/perfdhcp.out")
    [ "$prc" -ne 0 ] && [ "$prc" -ne 3 ] && err="perfdhcp-rc$prc"
    for ((i = 0; i < peers; i++)); do kill -0 "${pid[$i]}" 2>/dev/null || err="${err:+$err;}server$i-died"; done
  fi
  # peak RSS now, then SIGTERM and count what was persisted
  local hwm=0 h ticks=0 leases=() det=""
  for ((i = 0; i < peers; i++)); do
    h=$(status_kb "${pid[$i]:-0}" VmHWM); h=${h:-0}; [ "$h" -gt "$hwm" ] && hwm=$h
    [ -n "${c1[$i]:-}" ] && ticks=$((ticks + c1[i] - c0[i]))
  done
  for ((i = 0; i < peers; i++)); do stop_pid "${pid[$i]:-}" 10; stop_pid "${outer[$i]}" 2; wait "${outer[$i]}" 2>/dev/null; done
  for ((i = 0; i < peers; i++)); do leases[$i]=$(server_leases "$s" "$dir" "$i"); det="${det}p$i=${leases[$i]} "; done
  local cpu; cpu=$(awk -v h0="${h0:-0 0}" -v h1="${h1:-0 0}" -v st="$ticks" -v pt="${pc:-0}" -v w0="${w0:-0}" -v w1="${w1:-1}" -v hz="$CLK_TCK" -v nc="$(nproc)" -v ct="${CAP_TICKS_LAST:-0}" 'BEGIN{
      secs=(w1-w0)/1e9; if (secs<=0) {print ",,"; exit}
      split(h0,a," "); split(h1,b," "); o=(b[1]-a[1])-st-pt-ct; if (o<0) o=0
      printf "%.0f,%.0f,%.0f", 100*st/hz/secs, 100*pt/hz/secs, 100*o/hz/secs }')
  [ -z "$err" ] || cpu=",,"
  if [ -n "$err" ] && [ "$fo" = 1 ]; then
    # keep the peers' last log lines: they say how far the pair got
    det="$det$(tail -n 3 "$dir/server0.log" 2>/dev/null | tr ',\n' '; ' | cut -c1-200)"
  fi
  echo "$section,$s,$rate,$rep,$row,$cpu,$hwm,${leases[0]:-0},$startup,$(cut -d' ' -f1 /proc/loadavg),${det% },$err,$lat,$disk" >> "$OUT/results.csv"
  blog "$section $s rate=$rate rep=$rep -> achieved,sent,acks,drop%,DOavg,DOmax,RAavg,RAmax=[$row] cpu(srv,perf,other)=[$cpu] lat(n,answered,DORA p50,p90,p99,max,DO p50,p99,RA p50,p99,goodput,capdrops,capcpu,sample)=[$lat] disk(busy%,writes/s,flush%,flushes/s)=[$disk] hwm=${hwm}kB leases=${leases[*]} busy-before=${busy}% ${err:+ERROR=$err}"
  # keep disk use bounded: bulky logs/lease stores only for the last repetition or failures
  if [ -z "$err" ] && [ "$rep" -lt "$REPS" ]; then rm -f "$dir"/*.log "$dir"/*.leases* "$dir"/*.csv; fi
  return 0
}

# A point not run (bench/run.sh --skip-drop: the server already lost too much at a lower rate in
# this repetition): a row with only its error, so that the tables say so and it never counts as
# sustained. $1 section $2 server $3 rate $4 rep $5 why (no commas).
skip_point() {
  awk -v pre="$1,$2,$3,$4" -v la="$(cut -d' ' -f1 /proc/loadavg)" -v why="${5//,/;}" -v n="$(awk -F, '{print NF}' <<<"$SWEEP_HDR")" 'BEGIN {
    printf "%s", pre; for (i = 5; i <= n; i++) printf ",%s", (i == 19 ? la : (i == 21 ? why : "")); printf "\n" }' >> "$OUT/results.csv"
  blog "$1 $2 rate=$3 rep=$4 -> $5"
}

# derive_balanced_pair PRIMARY_FILE SECONDARY_FILE OUTDIR: writes OUTDIR/dhcpd0.leases and
# dhcpd1.leases, a pair in normal state whose every lease is as the primary's file last recorded it
# (backup: owned by the secondary and acknowledged by it, tstp = tsfp = atsfp; anything else: free),
# stamped now. Prints how many distinct backup leases SECONDARY_FILE itself held.
derive_balanced_pair() {
  local now i; now=$(date -u '+%w %Y/%m/%d %H:%M:%S')
  for i in 0 1; do
    awk -v peer=$i -v now="$now" '
      /^lease / { ip = $2 }
      /^[ \t]*binding state / { st[ip] = $3; if (!(ip in seen)) { seen[ip] = 1; order[++n] = ip } }
      END {
        print "# The format of this file is documented in the dhcpd.leases(5) manual page."
        print "# derived by bench/lib/sweep.sh from the ISC primary'"'"'s balanced pool"
        print "authoring-byte-order little-endian;"
        print "failover peer \"fo\" state {"
        print "  my state normal at " now ";"
        print "  partner state normal at " now ";"
        if (peer == 1) print "  mclt 1800;"
        print "}"
        for (k = 1; k <= n; k++) {
          ip = order[k]
          if (st[ip] == "backup;")
            print "lease " ip " {\n  starts " now ";\n  tstp " now ";\n  tsfp " now ";\n  atsfp " now ";\n  binding state backup;\n}"
          else
            print "lease " ip " {\n  binding state free;\n}"
        }
      }' "$1" > "$3/dhcpd$i.leases"
  done
  awk '/^lease / { ip = $2 } /^[ \t]*binding state backup;/ { b[ip] = 1 } END { print length(b) }' "$2"
}

# The ISC pair's balanced starting state, built once per invocation: an empty pair reaches
# normal, then the primary's pool balancer moves half the free leases to the secondary with
# one BNDUPD each (~40-60 s); we wait for "balanced pool" and both lease files to stop growing.
prepare_isc_failover_snapshot() {
  local c=$OUT/cache/isc-failover dir i outer=() t0 prev="" cur stable=0
  if [ -s "$c/dhcpd0.leases" ]; then
    blog "failover: starting the pairs from the existing snapshot $c (made $(date -u -r "$c/dhcpd0.leases" '+%H:%M UTC'))"; return 0
  fi
  dir=$c/prep; mkdir -p "$dir"
  server_conf isc "$dir" primary 0; server_conf isc "$dir" secondary 1
  for i in 0 1; do start_server isc "$dir" "$i" $((FO_SNAPSHOT_MAX + 60)); outer[$i]=$SRV_OUTER; done
  t0=$(date +%s)
  blog "failover: building ISC's balanced snapshot (empty pair -> normal -> pool balancing), at most ${FO_SNAPSHOT_MAX}s"
  until grep -q 'balanced pool' "$dir/server0.log" 2>/dev/null; do
    [ $(( $(date +%s) - t0 )) -ge "$FO_SNAPSHOT_MAX" ] && break; sleep 1
  done
  # then until both files stop growing for 5 s; after "balanced pool" the peers may keep writing
  # (the secondary's POOLREQs, answered negatively, each rewrite a few records), so at most 60 s more
  local tb; tb=$(date +%s)
  while [ $(( $(date +%s) - t0 )) -lt "$FO_SNAPSHOT_MAX" ] && [ "$stable" -lt 5 ] && [ $(( $(date +%s) - tb )) -lt 60 ]; do
    cur=$(stat -c %s "$dir/dhcpd0.leases" "$dir/dhcpd1.leases" | tr '\n' ' ')
    if [ "$cur" = "$prev" ]; then stable=$((stable + 1)); else stable=0; prev=$cur; fi
    sleep 1
  done
  for i in 0 1; do stop_pid "$(udp67_pid "$([ $i = 0 ] && echo "$NS_S0" || echo "$NS_S1")")" 10; stop_pid "${outer[$i]}" 5; wait "${outer[$i]}" 2>/dev/null; done
  if grep -q 'balanced pool' "$dir/server0.log"; then
    # The peers were stopped with SIGTERM (clean exit): the files hold whole records. But ISC's
    # balancer is still sending the secondary its backup leases when the files settle (the
    # secondary's file held 5,260-22,920 of 32,639 in session 4), so a pair started from them
    # re-sends ~27,000 updates at the start of every point. Both files are therefore derived from
    # the primary's states: each backup lease acknowledged by the secondary, each free one free.
    local held want
    held=$(derive_balanced_pair "$dir/dhcpd0.leases" "$dir/dhcpd1.leases" "$c")
    want=$(grep -c 'binding state backup' "$c/dhcpd1.leases")
    blog "failover: the secondary's own file held $held backup leases; both files derived from the primary's states ($want backup leases on each side)"
    blog "failover: snapshot after $(( $(date +%s) - t0 ))s ($([ "$stable" -ge 5 ] && echo "files settled" || echo "files still growing 60 s after balancing: POOLREQ bookkeeping")): $(grep -h 'balanced pool' "$dir/server0.log" | tail -1)"
  else
    # never start a run from a half-written snapshot: the pairs then start empty and must
    # reach normal within the ready timeout (or are reported as not ready)
    blog "failover: ISC pair not balanced within ${FO_SNAPSHOT_MAX}s ($(grep -c '^lease' "$dir/dhcpd1.leases") lease records written by the secondary); pairs start from empty lease files"
  fi
}
