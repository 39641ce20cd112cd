# bench/lib/servers.sh - how each server under test is configured, started and counted
# (sourced by bench/run.sh). Every server gets the same pool, lease time and options:
# 198.18.1.1-198.18.255.254, 3600 s, routers + DNS 198.18.0.1, ping-check off (ISC's default
# ping makes every OFFER wait 1 s, which perfdhcp counts as a drop).
#
# A server is a name; server_conf NAME DIR PEER writes its config into DIR, server_cmd prints
# the foreground command, server_ready says whether it is ready beyond having bound UDP :67,
# server_leases counts the ACTIVE leases it persisted (read after it exited).

ISC_BIN=${ISC_BIN:-/usr/sbin/dhcpd}
KEA_BIN=${KEA_BIN:-/usr/sbin/kea-dhcp4}
[ -n "${TS_BIN:-}" ] && TS_BIN_GIVEN=1
TS_BIN=${TS_BIN:-$ROOT/bin/dhcpd-ts}
TS_SNAP=""

# dhcpd-ts runs from a private copy of dist/ taken at its first start in this invocation: a
# `make build` elsewhere swaps dist/ (rm + mv), and a server started in that instant fails with
# ERR_MODULE_NOT_FOUND (seen on this shared machine), or a run would mix two builds. The copy
# links node_modules and src/ (native addon) back to the checkout; bench_cleanup removes it.
# TS_BIN given in the environment: used as is.
ts_snapshot() {
  [ -n "$TS_SNAP" ] || [ -n "${TS_BIN_GIVEN:-}" ] && return 0
  local d; d=$(mktemp -d /tmp/dhcpd-ts-bench-dist.XXXXXX) || return 0
  if mkdir -p "$d/bin" && cp -a "$ROOT/dist" "$d/dist" && cp "$ROOT/bin/dhcpd-ts" "$d/bin/" && cp "$ROOT/package.json" "$d/" &&
     ln -s "$ROOT/node_modules" "$d/node_modules" && ln -s "$ROOT/src" "$d/src" && [ -f "$d/dist/src/cli/main.js" ]; then
    TS_SNAP=$d; TS_BIN=$d/bin/dhcpd-ts
    blog "dhcpd-ts: running from a copy of dist/ taken now ($(date -u -r "$ROOT/dist" '+built %H:%M:%S UTC'), $d)"
  else
    rm -rf "$d"; blog "dhcpd-ts: could not copy dist/; running from $ROOT/dist"
  fi
}

# ISC-syntax config shared by dhcpd-ts and ISC dhcpd. $2 = failover role: none|primary|secondary.
isc_conf() {
  local dir=$1 role=$2 peer=$3
  {
    echo "# bench/run.sh: standalone or split-128 failover, ping-check off"
    echo "authoritative;"
    echo "ddns-update-style none;"
    echo "default-lease-time $LEASE_TIME;"
    echo "max-lease-time $LEASE_TIME;"
    echo "ping-check false;"
    echo "option domain-name-servers $SRV_IP0;"
    if [ "$role" != none ]; then
      echo "failover peer \"fo\" {"
      if [ "$role" = primary ]; then
        echo "  primary; address $SRV_IP0; port 647; peer address $SRV_IP1; peer port 847;"
        echo "  mclt 1800; split 128;"
      else
        echo "  secondary; address $SRV_IP1; port 847; peer address $SRV_IP0; peer port 647;"
      fi
      echo "  max-response-delay 60; max-unacked-updates 10; load balance max seconds 3;"
      echo "}"
    fi
    echo "subnet $NET netmask $MASK {"
    echo "  option routers $SRV_IP0;"
    if [ "$role" != none ]; then
      echo "  pool { failover peer \"fo\"; range $POOL_FIRST $POOL_LAST; }"
    else
      echo "  range $POOL_FIRST $POOL_LAST;"
    fi
    echo "}"
  } > "$dir/dhcpd$peer.conf"
  [ -f "$dir/dhcpd$peer.leases" ] || : > "$dir/dhcpd$peer.leases"
}

# Kea 2.2 as the reference harness runs it (../shared/bench dhcpbench.sh, spec "kea"): memfile
# with persist (one CSV line appended and flushed per lease change, no fsync), single-threaded,
# raw sockets on srv0, the same pool, lease time and options as the ISC-syntax config above.
# lfc-interval 3600: the lease file cleanup never runs within a point.
kea_conf() {
  local dir=$1
  cat > "$dir/kea-dhcp4.conf" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "$SRV_IF" ], "dhcp-socket-type": "raw" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$dir/kea-leases4.csv", "lfc-interval": 3600 },
  "multi-threading": { "enable-multi-threading": false },
  "valid-lifetime": $LEASE_TIME,
  "max-valid-lifetime": $LEASE_TIME,
  "option-data": [ { "name": "domain-name-servers", "data": "$SRV_IP0" } ],
  "subnet4": [ { "id": 1, "subnet": "$NET/$PLEN", "pools": [ { "pool": "$POOL_FIRST - $POOL_LAST" } ],
                 "option-data": [ { "name": "routers", "data": "$SRV_IP0" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "INFO", "output_options": [ { "output": "$dir/kea-dhcp4.log" } ] } ]
} }
JSON
}

# $1 server, $2 dir, $3 failover role (none|primary|secondary), $4 peer index
server_conf() {
  case $1 in
    isc|dhcpd-ts) isc_conf "$2" "$3" "$4";;
    kea) kea_conf "$2";;
  esac
}

server_cmd() {  # $1 server, $2 dir, $3 peer index
  case $1 in
    isc) echo "$ISC_BIN -4 -f -d -cf $2/dhcpd$3.conf -lf $2/dhcpd$3.leases -pf $2/dhcpd$3.pid $SRV_IF";;
    dhcpd-ts) if [ "${TS_PROFILE:-0}" = 1 ]; then
                # `--profile`: the same server under V8's sampling profiler (written on exit)
                # (TS_BIN given: the dist/ beside it, as the launcher would run)
                local dist=${TS_SNAP:-$ROOT}/dist
                [ -n "${TS_BIN_GIVEN:-}" ] && dist=$(dirname "$(readlink -f "$TS_BIN")")/../dist
                echo "node --cpu-prof --cpu-prof-dir=$2/cpuprof $dist/src/cli/main.js -4 -f -d -cf $2/dhcpd$3.conf -lf $2/dhcpd$3.leases -pf $2/dhcpd$3.pid $SRV_IF"; return
              fi
              echo "$TS_BIN -4 -f -d -cf $2/dhcpd$3.conf -lf $2/dhcpd$3.leases -pf $2/dhcpd$3.pid $SRV_IF";;
    kea) echo "env KEA_PIDFILE_DIR=$2 KEA_LOCKFILE_DIR=$2 $KEA_BIN -c $2/kea-dhcp4.conf";;
  esac
}

# Install Kea (kea-dhcp4-server) when it is missing, as `make bench` does, without letting the
# package start a service on the host: a policy-rc.d that exits 101 (deny) exists during the
# install (created only if there is none, removed afterwards). Root only; failure is not fatal
# (the Kea column is then skipped).
ensure_kea() {
  [ -x "$KEA_BIN" ] && return 0
  command -v apt-get >/dev/null || { blog "kea: not installed and no apt-get here"; return 1; }
  local created="" rc
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1; fi
  blog "kea: installing kea-dhcp4-server (services kept from starting by policy-rc.d)"
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends kea-dhcp4-server) < /dev/null >> "${OUT:-/tmp}/bench.log" 2>&1; rc=$?
  [ -n "$created" ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || blog "kea: install failed (rc=$rc, see bench.log)"
  [ -x "$KEA_BIN" ]
}

server_available() {
  case $1 in
    isc) [ -x "$ISC_BIN" ];;
    dhcpd-ts) [ -x "$TS_BIN" ] && [ -f "$ROOT/dist/src/cli/main.js" ];;
    kea) [ -x "$KEA_BIN" ];;
    *) return 1;;
  esac
}

# Extra readiness beyond "UDP :67 bound": $1 server, $2 log file, $3 failover (0/1).
server_ready() {
  if [ "$3" = 1 ]; then grep -q 'I move from .* to normal' "$2" 2>/dev/null; return; fi
  case $1 in
    isc|dhcpd-ts) grep -q 'Server starting service' "$2" 2>/dev/null;;
    *) return 0;;
  esac
}

# Active leases in an ISC dhcpd.leases file: addresses whose LAST record is "binding state active".
isc_file_active() {
  awk '/^lease /{ip=$2} /^[ \t]*binding state /{st[ip]=$3} END{n=0; for (a in st) if (st[a]=="active;") n++; print n+0}' "$1" 2>/dev/null || echo 0
}

# dhcpd-ts keeps its leases in LEASEFILE.sqlite (lease4.state: ISC numbering, 2 = active).
ts_db_active() {
  [ -f "$1" ] || { echo 0; return; }
  timeout 30 sqlite3 -readonly "$1" 'select count(*) from lease4 where state = 2;' 2>/dev/null || echo 0
}

server_leases() {  # $1 server, $2 dir, $3 peer index
  case $1 in
    isc) isc_file_active "$2/dhcpd$3.leases";;
    dhcpd-ts) ts_db_active "$2/dhcpd$3.leases.sqlite";;
    kea) awk -F, 'NR>1{st[$1]=$10; vl[$1]=$4} END{n=0; for (a in st) if (st[a]=="0" && vl[a]>0) n++; print n+0}' "$2/kea-leases4.csv" 2>/dev/null || echo 0;;
  esac
}

# Start server $1 (peer index $3) in its namespace with run dir $2, pinned with taskset to
# $SRV_CPUS and bounded by timeout $4 seconds. Sets SRV_OUTER (timeout's PID).
start_server() {
  local s=$1 dir=$2 peer=$3 ns pin=()
  ns=$([ "$peer" = 0 ] && echo "$NS_S0" || echo "$NS_S1")
  [ -n "$SRV_CPUS" ] && pin=(taskset -c "$SRV_CPUS")
  [ "$s" = dhcpd-ts ] && ts_snapshot
  local cmd; cmd=$(server_cmd "$s" "$dir" "$peer")
  echo "$cmd" > "$dir/server$peer.cmd"
  ip netns exec "$ns" timeout -k 5 "$4" "${NICE_PFX[@]}" "${pin[@]}" sh -c "exec $cmd" > "$dir/server$peer.log" 2>&1 < /dev/null &
  SRV_OUTER=$!
  BENCH_PIDS+=("$SRV_OUTER")
}

# Wait (at most $5 s) until the server bound :67 and is ready. Prints the PID that owns :67
# (the process measured), or nothing on failure. $1 server $2 dir $3 peer $4 failover(0/1) $6 outer PID
wait_ready() {
  local s=$1 dir=$2 peer=$3 fo=$4 max=$5 outer=$6 ns pid="" t0
  ns=$([ "$peer" = 0 ] && echo "$NS_S0" || echo "$NS_S1")
  t0=$(date +%s)
  while [ $(( $(date +%s) - t0 )) -lt "$max" ]; do
    kill -0 "$outer" 2>/dev/null || return 1
    pid=$(udp67_pid "$ns")
    if [ -n "$pid" ] && server_ready "$s" "$dir/server$peer.log" "$fo"; then echo "$pid"; return 0; fi
    sleep 0.1
  done
  return 1
}
