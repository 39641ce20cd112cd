# bench/lib/report.sh - tables from results.csv (sourced by bench/run.sh; also usable alone:
# `bash bench/run.sh --report DIR` re-renders DIR/summary.md from DIR/results.csv).

COLS='NR==1{for(i=1;i<=NF;i++) c[$i]=i; next}'

# Per (section, server, offered rate): medians over the repetitions, the worst drop %, the
# largest max latency. $1 csv, $2 section.
rate_table() {
  echo "| server | offered/s | achieved/s median (min-max) | drop % median (worst) | DORA p50 ms | DORA p99 ms (worst) | DO mean ms | DO max ms | RA mean ms | RA max ms | srv CPU % | perfdhcp CPU % | other CPU % | disk busy % | disk flush % | VmHWM MiB | leases persisted | reps ok/run |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F, -v sec="$2" "$COLS"'
    $c["section"]!=sec {next}
    { k=$c["server"] SUBSEP $c["offered_rate"]; tot[k]++
      if ($c["error"]!="") { err[k]=$c["error"]; next }
      m=++n[k]; A[k,m]=$c["achieved_rate"]; D[k,m]=$c["drop_pct"]; DA[k,m]=$c["do_avg_ms"]; RA[k,m]=$c["ra_avg_ms"]
      C[k,m]=$c["srv_cpu_pct"]; P[k,m]=$c["perf_cpu_pct"]; O[k,m]=$c["other_cpu_pct"]; DB[k,m]=(("disk_busy_pct" in c) ? $c["disk_busy_pct"] : ""); DF[k,m]=(("disk_flush_pct" in c) ? $c["disk_flush_pct"] : ""); H[k,m]=$c["vmhwm_kb"]; L[k,m]=$c["leases_persisted"]
      if ($c["do_max_ms"]+0 > DM[k]) DM[k]=$c["do_max_ms"]+0; if ($c["ra_max_ms"]+0 > RM[k]) RM[k]=$c["ra_max_ms"]+0
      if (("dora_p99_ms" in c) && $c["dora_p99_ms"]!="") { q=++nl[k]; L50[k,q]=$c["dora_p50_ms"]; L99[k,q]=$c["dora_p99_ms"]; if ($c["dora_p99_ms"]+0 > L99W[k]) L99W[k]=$c["dora_p99_ms"]+0 } }
    function med(arr,k,cnt,  i,j,t,x) { for(i=1;i<=cnt;i++) x[i]=arr[k,i]+0
      for(i=1;i<=cnt;i++) for(j=i+1;j<=cnt;j++) if (x[j]<x[i]) {t=x[i];x[i]=x[j];x[j]=t}
      lo=x[1]; hi=x[cnt]; return (cnt%2) ? x[(cnt+1)/2] : (x[cnt/2]+x[cnt/2+1])/2 }
    END { for (k in tot) { split(k,p,SUBSEP); cnt=n[k]+0; r=(p[2]==0?"unlimited":p[2])
        if (cnt==0) { printf "%s\t%d\t| %s | %s | not measured: %s | | | | | | | | | | | | | | | 0/%d |\n", p[1], (p[2]==0?1e9:p[2]), p[1], r, err[k], tot[k]; continue }
        a=med(A,k,cnt); alo=lo; ahi=hi; d=med(D,k,cnt); dhi=hi
        l50="-"; l99="-"; if (nl[k]>0) { l50=sprintf("%.2f", med(L50,k,nl[k])); l99=sprintf("%.2f (%.2f)", med(L99,k,nl[k]), L99W[k]) }
        printf "%s\t%d\t| %s | %s | %.0f (%.0f-%.0f) | %.2f (%.2f) | %s | %s | %.2f | %.1f | %.2f | %.1f | %.0f | %.0f | %.0f | %s | %s | %.1f | %d | %d/%d |\n", p[1], (p[2]==0?1e9:p[2]), p[1], r, a, alo, ahi, d, dhi, l50, l99,
          med(DA,k,cnt), DM[k], med(RA,k,cnt), RM[k], med(C,k,cnt), med(P,k,cnt), med(O,k,cnt), (DB[k,1]!="" ? sprintf("%.0f", med(DB,k,cnt)) : "-"), (DF[k,1]!="" ? sprintf("%.0f", med(DF,k,cnt)) : "-"), med(H,k,cnt)/1024, med(L,k,cnt), cnt, tot[k] } }' "$1" |
    sort -t$'\t' -k1,1 -k2,2n | cut -f3-
}

# Sustainable rate per server: the highest offered rate such that it and every lower offered
# rate had < 1 % drops in EVERY repetition (and no failed repetition). Prints "server rate".
# With $3 = median: the looser rule of the reference harness's tables (median drop % < 1 at that
# rate and all lower ones; a failed repetition counts as 100 %).
sustainable() {  # $1 csv, $2 section, [$3 all|median]
  awk -F, -v sec="$2" -v mode="${3:-all}" "$COLS"'
    $c["section"]==sec && $c["offered_rate"]>0 { k=$c["server"] SUBSEP $c["offered_rate"]; seen[k]=1
      d=($c["error"]!="") ? 100 : $c["drop_pct"]+0; x[k,++n[k]]=d
      if (d >= 1) bad[k]=1 }
    function med(k,  i,j,t,y,m) { m=n[k]; for(i=1;i<=m;i++) y[i]=x[k,i]; for(i=1;i<=m;i++) for(j=i+1;j<=m;j++) if (y[j]<y[i]) {t=y[i];y[i]=y[j];y[j]=t}
      return (m%2) ? y[(m+1)/2] : (y[m/2]+y[m/2+1])/2 }
    END { for (k in seen) { split(k,p,SUBSEP); ok=(mode=="median") ? (med(k) < 1) : !(k in bad); print p[1], p[2], ok ? 1 : 0 } }' "$1" |
    sort -k1,1 -k2,2n |
    awk '{ if (!($1 in s)) { s[$1]=0; ok[$1]=1; o[++ns]=$1 } if (ok[$1] && $3==1) s[$1]=$2; else ok[$1]=0 }
         END { for (i=1;i<=ns;i++) print o[i], s[o[i]] }'
}

# "- server: R/s" per server, saying when R is the highest rate tested for it (the server did not
# reach its ceiling in this run: its true sustainable rate, and a ratio against it, are bounds).
sustainable_lines() {  # $1 csv, $2 section, [$3 all|median]
  local top
  top=$(awk -F, -v sec="$2" "$COLS"'$c["section"]==sec && $c["error"]=="" && $c["offered_rate"]>0 && $c["offered_rate"]+0>m[$c["server"]] { m[$c["server"]]=$c["offered_rate"]+0 }
    END { for (s in m) print s, m[s] }' "$1")
  sustainable "$1" "$2" "${3:-all}" | awk -v top="$top" 'BEGIN { n = split(top, t, "\n"); for (i = 1; i <= n; i++) { split(t[i], f, " "); m[f[1]] = f[2] } }
    { printf "- %s: %s/s%s\n", $1, $2, ($2 > 0 && $2 == m[$1]) ? " (the highest rate tested: its ceiling was not reached)" : "" }'
}

top_rate() {  # $1 csv $2 section $3 server: the highest paced rate measured (not skipped or failed)
  awk -F, -v sec="$2" -v sv="$3" "$COLS"'$c["section"]==sec && $c["server"]==sv && $c["error"]=="" && $c["offered_rate"]+0>m { m=$c["offered_rate"]+0 } END { print m+0 }' "$1"
}

ratio_lines() {  # $1 csv, $2 section, $3 "ours", $4.. others
  local csv=$1 sec=$2 ours=$3; shift 3
  local sus; sus=$(sustainable "$csv" "$sec" "${SUS_MODE:-all}")
  local mine; mine=$(awk -v s="$ours" '$1==s{print $2}' <<<"$sus")
  local o v
  for o in "$@"; do
    v=$(awk -v s="$o" '$1==s{print $2}' <<<"$sus")
    if [ -z "$v" ] || [ -z "$mine" ]; then echo "- $ours / $o: n/a (not measured in this run)"
    elif [ "$v" = 0 ]; then echo "- $ours / $o: $mine / 0 ($o: no tested rate met the rule)"
    else awk -v a="$mine" -v b="$v" -v x="$ours" -v y="$o" -v ta="$(top_rate "$csv" "$sec" "$ours")" -v tb="$(top_rate "$csv" "$sec" "$o")" 'BEGIN{
      note = (a == ta && b != tb) ? sprintf(" (at least: %s did not reach its ceiling)", x) : (b == tb && a != ta) ? sprintf(" (at most: %s did not reach its ceiling)", y) : (a == ta && b == tb) ? " (neither reached its ceiling)" : ""
      printf "- %s / %s: %d / %d = %.2fx%s\n", x, y, a, b, a/b, note}'; fi
  done
}

# Notes under the sweep table: how each server measured here persists a lease.
sweep_notes() {  # $1 csv
  echo "Notes:"
  echo "- ISC dhcpd and dhcpd-ts fsync every lease before its ACK (ISC: dhcpd.leases append + fsync; dhcpd-ts: SQLite WAL, each group commit fsync'd before its ACKs leave: synchronous=FULL, or since session 3 the commit at synchronous=NORMAL followed by an fsync of the WAL off the event loop, turns decided meanwhile sharing the next commit and fsync)."
  grep -q '^sweep,kea,' "$1" && echo "- Kea 2.2 memfile appends each lease to its CSV and flushes it but does NOT fsync: a power cut can lose ACKed leases. Its rate is not bought with the same durability."
  echo "- DORA p50/p99: nearest-rank percentiles over the exchanges that got their ACK; '-' = no capture at that rate (rates above --lat-max-rate; the flood row's are over its 1-in-16 sample). DO/RA mean/max: perfdhcp's own figures."
  echo "- disk busy %: share of the point's wall time during which the disk holding the lease files had I/O in flight (/proc/diskstats io_ticks), whoever caused it; disk flush %: time spent in cache flushes (the end of every fsync; not in io_ticks), summed over flushes, per wall time. ISC and dhcpd-ts wait for the disk on every ACK (batch), so their rows depend on both."
  echo "- The machine is a shared 2-core VM (other engineers' jobs ran during the run: see load average above and the other CPU % column); figures are noisy, compare servers within this run only."
  echo
}

# Median (over the repetitions without error) of column $4 for section $2, server $3, offered
# rate $5, and the count and worst (max) value: "median worst count", or nothing.
col_stats() {  # $1 csv $2 section $3 server $4 column $5 rate
  awk -F, -v sec="$2" -v sv="$3" -v col="$4" -v rate="$5" "$COLS"'
    $c["section"]==sec && $c["server"]==sv && $c["offered_rate"]==rate && $c["error"]=="" && (col in c) && $c[col]!="" { x[++n]=$c[col]+0; if ($c[col]+0>w || n==1) w=$c[col]+0 }
    END { if (!n) exit; for(i=1;i<=n;i++) for(j=i+1;j<=n;j++) if (x[j]<x[i]) {t=x[i];x[i]=x[j];x[j]=t}
      printf "%s %s %d\n", (n%2)?x[(n+1)/2]:(x[n/2]+x[n/2+1])/2, w, n }' "$1"
}

# "p99 at half the sustainable rate" per server: the highest tested offered rate at or below half
# the sustainable rate that has latency captures; the median of its repetitions' DORA p99.
p99_lines() {  # $1 csv, $2 section
  local csv=$1 sec=$2 sv sus half r st
  while read -r sv sus; do
    [ -n "$sv" ] || continue
    if [ "$sus" = 0 ]; then echo "- $sv: p99 at half the sustainable rate: n/a (no sustainable rate in this run)"; continue; fi
    half=$((sus / 2))
    r=$(awk -F, -v sec="$sec" -v sv="$sv" -v h="$half" "$COLS"'
      $c["section"]==sec && $c["server"]==sv && $c["offered_rate"]>0 && $c["offered_rate"]<=h && ("dora_p99_ms" in c) && $c["dora_p99_ms"]!="" && $c["offered_rate"]>best { best=$c["offered_rate"] }
      END { if (best) print best }' "$csv")
    if [ -z "$r" ]; then echo "- $sv: p99 at half the sustainable rate: n/a (sustainable $sus/s; no latency capture at or below $half/s)"; continue; fi
    st=$(col_stats "$csv" "$sec" "$sv" dora_p99_ms "$r")
    awk -v sv="$sv" -v sus="$sus" -v h="$half" -v r="$r" -v st="$st" 'BEGIN{ split(st,x," ")
      printf "- %s: p99 at half the sustainable rate: %.2f ms (target < 10 ms: %s; sustainable %d/s, measured at %d/s%s; DISCOVER->ACK, median of %d repetitions, worst %.2f ms)\n",
        sv, x[1], (x[1] < 10 ? "met" : "missed"), sus, r, (r < h ? " (the highest tested rate <= " h "/s)" : ""), x[3], x[2] }'
  done < <(sustainable "$csv" "$sec")
}

# Goodput under the unpaced flood vs the sustainable rate, per server: the strict goodput from the
# sampled capture (OFFER and ACK each within 1 s) when there is one, and perfdhcp's own ACK rate.
flood_lines() {  # $1 csv, $2 section
  local csv=$1 sec=$2 sv sus st pf
  while read -r sv sus; do
    [ -n "$sv" ] || continue
    pf=$(col_stats "$csv" "$sec" "$sv" achieved_rate 0)
    st=$(col_stats "$csv" "$sec" "$sv" cap_goodput 0)
    if [ -z "$pf" ]; then echo "- $sv: flood goodput vs sustainable: not measured"; continue; fi
    awk -v sv="$sv" -v sus="$sus" -v st="$st" -v pf="$pf" 'BEGIN{ split(pf,p," "); n=split(st,x," ")
      g=(n ? x[1] : p[1])
      printf "- %s: flood goodput vs sustainable: %.0f/s vs %d/s%s (%s; perfdhcp counted %.0f ACKs/s, late ones included)\n", sv, g, sus,
        (sus > 0 ? sprintf(" = %.0f %%", 100 * g / sus) : ""), (n ? sprintf("exchanges completed within the 1 s drop time, median of %d repetitions", x[3]) : "perfdhcp ACK rate, no capture"), p[1] }'
  done < <(sustainable "$csv" "$sec")
}

render_summary() {  # $1 out dir
  local dir=$1 csv=$1/results.csv
  {
    echo "# dhcpd-ts benchmark summary"; echo
    sed 's/^/    /' "$dir/meta.txt" 2>/dev/null; echo
    if grep -q '^sweep,' "$csv" 2>/dev/null; then
      echo "## Standalone DORA rate sweep (fresh server + empty lease store per run)"; echo
      rate_table "$csv" sweep; echo
      echo "Sustainable DORA/s (< 1 % drops in every repetition at that rate and all lower rates):"
      sustainable_lines "$csv" sweep
      echo; echo "Ratios measured in this run (sustainable rate):"
      ratio_lines "$csv" sweep dhcpd-ts isc kea; echo
      echo "By the looser rule (median drop % < 1 at that rate and all lower ones, as the reference harness's tables also give):"
      sustainable_lines "$csv" sweep median
      SUS_MODE=median ratio_lines "$csv" sweep dhcpd-ts isc kea | sed 's/^- /- (median rule) /'; echo
      echo "Latency (DORA = DISCOVER sent -> ACK received, per exchange, from a capture on the client's interface):"
      p99_lines "$csv" sweep; echo
      echo "Unpaced flood (perfdhcp as fast as it can for the whole period, every DISCOVER a new client; goodput = exchanges per second whose OFFER and ACK each came within perfdhcp's 1 s drop time, from a 1-in-16 capture):"
      flood_lines "$csv" sweep; echo
      sweep_notes "$csv"
    fi
    if grep -q '^failover,' "$csv" 2>/dev/null; then
      echo "## Failover pair (split 128; ISC pair starts from its balanced snapshot)"; echo
      rate_table "$csv" failover; echo
      echo "Sustainable DORA/s of the pair:"
      sustainable "$csv" failover | sed 's/^\(\S*\) \(\S*\)/- \1: \2\/s/'
      echo; ratio_lines "$csv" failover dhcpd-ts isc; echo
      echo "By the median rule:"
      sustainable "$csv" failover median | sed 's/^\(\S*\) \(\S*\)/- \1: \2\/s/'
      SUS_MODE=median ratio_lines "$csv" failover dhcpd-ts isc | sed 's/^- /- (median rule) /'; echo
      p99_lines "$csv" failover; echo
    fi
    [ -f "$dir/extras.md" ] && cat "$dir/extras.md"
  } > "$dir/summary.md"
}
