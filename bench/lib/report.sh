# bench/lib/report.sh - tables from results.csv (sourced by bench/run.sh; also usable alone:
# `bash bench/run.sh --report DIR` re-renders DIR/summary.md from DIR/results.csv).

COLS='NR==1{for(i=1;i<=NF;i++) c[$i]=i; next}'

# Per (section, server, offered rate): medians over the repetitions, the worst drop %, the
# largest max latency. $1 csv, $2 section.
rate_table() {
  echo "| server | offered/s | achieved/s median (min-max) | drop % median (worst) | DO mean ms | DO max ms | RA mean ms | RA max ms | srv CPU % | perfdhcp CPU % | other CPU % | VmHWM MiB | leases persisted | reps ok/run |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F, -v sec="$2" "$COLS"'
    $c["section"]!=sec {next}
    { k=$c["server"] SUBSEP $c["offered_rate"]; tot[k]++
      if ($c["error"]!="") { err[k]=$c["error"]; next }
      m=++n[k]; A[k,m]=$c["achieved_rate"]; D[k,m]=$c["drop_pct"]; DA[k,m]=$c["do_avg_ms"]; RA[k,m]=$c["ra_avg_ms"]
      C[k,m]=$c["srv_cpu_pct"]; P[k,m]=$c["perf_cpu_pct"]; O[k,m]=$c["other_cpu_pct"]; H[k,m]=$c["vmhwm_kb"]; L[k,m]=$c["leases_persisted"]
      if ($c["do_max_ms"]+0 > DM[k]) DM[k]=$c["do_max_ms"]+0; if ($c["ra_max_ms"]+0 > RM[k]) RM[k]=$c["ra_max_ms"]+0 }
    function med(arr,k,cnt,  i,j,t,x) { for(i=1;i<=cnt;i++) x[i]=arr[k,i]+0
      for(i=1;i<=cnt;i++) for(j=i+1;j<=cnt;j++) if (x[j]<x[i]) {t=x[i];x[i]=x[j];x[j]=t}
      lo=x[1]; hi=x[cnt]; return (cnt%2) ? x[(cnt+1)/2] : (x[cnt/2]+x[cnt/2+1])/2 }
    END { for (k in tot) { split(k,p,SUBSEP); cnt=n[k]+0; r=(p[2]==0?"unlimited":p[2])
        if (cnt==0) { printf "%s\t%d\t| %s | %s | not measured: %s | | | | | | | | | | | 0/%d |\n", p[1], (p[2]==0?1e9:p[2]), p[1], r, err[k], tot[k]; continue }
        a=med(A,k,cnt); alo=lo; ahi=hi; d=med(D,k,cnt); dhi=hi
        printf "%s\t%d\t| %s | %s | %.0f (%.0f-%.0f) | %.2f (%.2f) | %.2f | %.1f | %.2f | %.1f | %.0f | %.0f | %.0f | %.1f | %d | %d/%d |\n", p[1], (p[2]==0?1e9:p[2]), p[1], r, a, alo, ahi, d, dhi,
          med(DA,k,cnt), DM[k], med(RA,k,cnt), RM[k], med(C,k,cnt), med(P,k,cnt), med(O,k,cnt), med(H,k,cnt)/1024, med(L,k,cnt), cnt, tot[k] } }' "$1" |
    sort -t$'\t' -k1,1 -k2,2n | cut -f3-
}

# Sustainable rate per server: the highest offered rate such that it and every lower offered
# rate had < 1 % drops in EVERY repetition (and no failed repetition). Prints "server rate".
sustainable() {  # $1 csv, $2 section
  awk -F, -v sec="$2" "$COLS"'
    $c["section"]==sec && $c["offered_rate"]>0 { k=$c["server"] SUBSEP $c["offered_rate"]; seen[k]=1
      if ($c["error"]!="" || $c["drop_pct"]+0 >= 1) bad[k]=1 }
    END { for (k in seen) { split(k,p,SUBSEP); print p[1], p[2], (k in bad)?0:1 } }' "$1" |
    sort -k1,1 -k2,2n |
    awk '{ if (!($1 in s)) { s[$1]=0; ok[$1]=1; o[++ns]=$1 } if (ok[$1] && $3==1) s[$1]=$2; else ok[$1]=0 }
         END { for (i=1;i<=ns;i++) print o[i], s[o[i]] }'
}

ratio_lines() {  # $1 csv, $2 section, $3 "ours", $4.. others
  local csv=$1 sec=$2 ours=$3; shift 3
  local sus; sus=$(sustainable "$csv" "$sec")
  local mine; mine=$(awk -v s="$ours" '$1==s{print $2}' <<<"$sus")
  local o v
  for o in "$@"; do
    v=$(awk -v s="$o" '$1==s{print $2}' <<<"$sus")
    if [ -z "$v" ] || [ -z "$mine" ]; then echo "- $ours / $o: n/a (not measured in this run)"
    elif [ "$v" = 0 ]; then echo "- $ours / $o: $mine / 0 ($o: no tested rate with < 1 % drops in every repetition)"
    else awk -v a="$mine" -v b="$v" -v x="$ours" -v y="$o" 'BEGIN{printf "- %s / %s: %d / %d = %.2fx\n", x, y, a, b, a/b}'; fi
  done
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
      sustainable "$csv" sweep | sed 's/^\(\S*\) \(\S*\)/- \1: \2\/s/'
      echo; echo "Ratios measured in this run (sustainable rate):"
      ratio_lines "$csv" sweep dhcpd-ts isc kea; echo
    fi
    if grep -q '^failover,' "$csv" 2>/dev/null; then
      echo "## Failover pair (split 128; ISC pair starts from its balanced snapshot)"; echo
      rate_table "$csv" failover; echo
      echo "Sustainable DORA/s of the pair:"
      sustainable "$csv" failover | sed 's/^\(\S*\) \(\S*\)/- \1: \2\/s/'
      echo; ratio_lines "$csv" failover dhcpd-ts isc; echo
    fi
    [ -f "$dir/extras.md" ] && cat "$dir/extras.md"
  } > "$dir/summary.md"
}
