#!/bin/bash
# Capture real DHCPv4 exchanges between ISC dhcpd 4.4.3 and real clients (udhcpc, ISC dhclient, dhcpcd,
# perfdhcp, klibc ipconfig for BOOTP, and a client behind ISC dhcrelay adding option 82), and record ISC's
# verdict on hand-made edge cases; the results are the fixtures in
# test/fixtures/wire/*.json that test/wire/vectors.test.ts decodes.
#
# Everything runs inside network namespaces this script creates (prefix "wcap-"), joined by veth pairs that
# are created directly inside those namespaces: no host interface, address, /etc/dhcp or /var/lib/dhcp file
# is touched (dhcpcd's state directories are replaced by tmpfs mounts inside the `ip netns exec` mount
# namespace). The namespaces and every process started here are removed on exit, also on failure.
#
# Usage (root): test/support/capture-wire-vectors.sh [output-dir]   (default: test/fixtures/wire)
# Needs the Debian packages isc-dhcp-server isc-dhcp-client udhcpc dhcpcd-base kea-admin (perfdhcp)
# isc-dhcp-relay tcpdump klibc-utils. Takes about a minute. Re-running changes xids and timestamps only.
# For each scenario, tcpdump -w writes a pcap on the server-side link; `tcpdump -r -vv` gives an
# independent decoding of every packet, which test/support/pcap-to-fixture.ts stores next to the hex as
# the expected facts (message type, xid, chaddr, yiaddr, option codes/lengths in wire order, PRL).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=${1:-$REPO/test/fixtures/wire}
P=wcap
W=$(mktemp -d /tmp/wcap.XXXXXX)
PIDS=()

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns"
  done
  if [ -n "${KEEP:-}" ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
cleanup_leftovers() { for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done; }
cleanup_leftovers

nsx() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }

# Client script for all three clients: configure/unconfigure the address only (never resolv.conf).
cat > "$W/client-script" <<'EOF'
#!/bin/sh
case "${1:-}:${reason:-}" in
  bound:*|renew:*) ip addr replace "$ip/${mask:-24}" dev "$interface" ;;
  *:BOUND|*:RENEW|*:REBIND|*:REBOOT|*:INFORM) [ -n "${new_ip_address:-}" ] && ip addr replace "$new_ip_address/${new_subnet_cidr:-24}" dev "$interface" ;;
  deconfig:*|*:RELEASE|*:EXPIRE|*:STOP|*:FAIL) ip addr flush dev "$interface" scope global ;;
esac
exit 0
EOF
chmod +x "$W/client-script"

# A point-to-point LAN: server namespace srv (eth0 10.77.0.1/24) and client namespace cli (eth0, MAC $1).
make_lan() {
  ip netns add "$P-srv"
  ip netns add "$P-cli"
  ip -n "$P-srv" link add eth0 type veth peer name eth0 netns "$P-cli"
  ip -n "$P-cli" link set eth0 address "$1"
  ip -n "$P-srv" link set eth0 address 02:77:00:00:00:01
  ip -n "$P-srv" addr add 10.77.0.1/24 dev eth0
  for n in srv cli; do ip -n "$P-$n" link set lo up; ip -n "$P-$n" link set eth0 up; done
}
drop_lan() {
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  sleep 0.3
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns"
  done
  PIDS=()
}

base_conf() {
  cat <<'EOF'
default-lease-time 600;
max-lease-time 7200;
ddns-update-style none;
authoritative;
ping-check false;
log-facility local7;
option domain-name "example.test";
EOF
}

# start_dhcpd <scenario> <interfaces...>: config in $W/<scenario>/dhcpd.conf
start_dhcpd() {
  local s=$1; shift
  : > "$W/$s/dhcpd.leases"
  nsx srv dhcpd -4 -f -d -cf "$W/$s/dhcpd.conf" -lf "$W/$s/dhcpd.leases" -pf "$W/$s/dhcpd.pid" "$@" \
    > "$W/$s/dhcpd.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q 'Server starting service' "$W/$s/dhcpd.log" && return 0; sleep 0.1; done
  cat "$W/$s/dhcpd.log" >&2; return 1
}
wait_log() { for _ in $(seq 100); do grep -q "$2" "$1" && return 0; sleep 0.1; done; echo "timeout waiting for '$2' in $1" >&2; return 0; }
start_capture() {
  local s=$1 ns=${2:-srv} ifc=${3:-eth0}
  nsx "$ns" tcpdump -i "$ifc" --immediate-mode -U -n -w "$W/$s/cap.pcap" 'udp port 67 or udp port 68' > "$W/$s/tcpdump.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q 'listening on' "$W/$s/tcpdump.log" && return 0; sleep 0.1; done
  return 1
}
# finish <scenario> <client description> <command description>
finish() {
  local s=$1 client=$2 how=$3
  sleep 0.5
  drop_lan
  tcpdump -r "$W/$s/cap.pcap" -n -vv -e > "$W/$s/cap.txt" 2>/dev/null
  node --import tsx "$REPO/test/support/pcap-to-fixture.ts" "$W/$s/cap.pcap" "$W/$s/cap.txt" "$OUT/$s.json" \
    "$s" "$client" "$how" "$W/$s/dhcpd.log" "$W/$s/dhcpd.conf"
}

subnet_conf() {
  cat <<'EOF'
subnet 10.77.0.0 netmask 255.255.255.0 {
  range 10.77.0.100 10.77.0.200;
  option routers 10.77.0.1;
  option domain-name-servers 10.77.0.1, 10.77.0.2;
  option broadcast-address 10.77.0.255;
  option domain-search "alpha.example.test", "beta.example.test";
  option ntp-servers 10.77.0.3;
}
EOF
}

# 1. udhcpc: DORA with hostname, vendor class, extra requested options, then RELEASE.
s=udhcpc-dora-release; mkdir -p "$W/$s"
{ base_conf; subnet_conf; } > "$W/$s/dhcpd.conf"
make_lan 52:54:00:77:00:01
start_dhcpd $s eth0; start_capture $s
nsx cli udhcpc -i eth0 -f -n -t 3 -T 2 -A 1 -s "$W/client-script" -x hostname:wcap-udhcpc \
  -V wcap-vendor -O search -O 119 >"$W/$s/client.log" 2>&1 &
PIDS+=($!)
wait_log "$W/$s/dhcpd.log" 'DHCPACK on'
# `ip netns exec` forks: signal udhcpc itself (the only udhcpc in our namespace).
upid=$(for p in $(ip netns pids "$P-cli"); do [ "$(cat /proc/$p/comm)" = udhcpc ] && echo $p; done | head -1)
sleep 0.5; kill -USR2 $upid   # BusyBox udhcpc: SIGUSR2 = release the lease
wait_log "$W/$s/dhcpd.log" 'DHCPRELEASE'
kill $upid 2>/dev/null || true
finish $s "udhcpc (BusyBox v1.35.0)" "udhcpc -i eth0 -f -n -x hostname:wcap-udhcpc -V wcap-vendor -O search -O 119; kill -USR2 (release)"

# 2. udhcpc with the broadcast flag (-B) and a requested address (-r).
s=udhcpc-broadcast-requested; mkdir -p "$W/$s"
{ base_conf; subnet_conf; } > "$W/$s/dhcpd.conf"
make_lan 52:54:00:77:00:02
start_dhcpd $s eth0; start_capture $s
nsx cli timeout 20 udhcpc -i eth0 -f -q -n -B -r 10.77.0.150 -t 3 -T 2 -A 1 -s "$W/client-script" >"$W/$s/client.log" 2>&1
finish $s "udhcpc (BusyBox v1.35.0)" "udhcpc -i eth0 -f -q -n -B -r 10.77.0.150"

# 3. ISC dhclient: DORA (with host-name, requesting domain-search), then RELEASE (dhclient -r).
s=dhclient-dora-release; mkdir -p "$W/$s"
{ base_conf; subnet_conf; } > "$W/$s/dhcpd.conf"
cat > "$W/$s/dhclient.conf" <<'EOF'
send host-name "wcap-dhclient";
request subnet-mask, broadcast-address, time-offset, routers, domain-name, domain-name-servers,
        domain-search, host-name, ntp-servers, interface-mtu;
EOF
make_lan 52:54:00:77:00:03
start_dhcpd $s eth0; start_capture $s
dh=(dhclient -4 -1 -cf "$W/$s/dhclient.conf" -lf "$W/$s/dhclient.leases" -pf "$W/$s/dhclient.pid" -sf "$W/client-script")
nsx cli timeout 20 "${dh[@]}" eth0 >"$W/$s/client.log" 2>&1
sleep 0.5
nsx cli timeout 10 "${dh[@]}" -r eth0 >>"$W/$s/client.log" 2>&1 || true
finish $s "ISC dhclient 4.4.3-P1" "dhclient -4 -1 -cf dhclient.conf eth0; dhclient -r eth0"

# 4. ISC dhclient INIT-REBOOT with a remembered lease from another network: authoritative NAK, then DORA.
s=dhclient-initreboot-nak; mkdir -p "$W/$s"
{ base_conf; subnet_conf; } > "$W/$s/dhcpd.conf"
: > "$W/$s/dhclient.conf"
cat > "$W/$s/dhclient.leases" <<EOF
lease {
  interface "eth0";
  fixed-address 10.66.0.42;
  option subnet-mask 255.255.255.0;
  option dhcp-server-identifier 10.66.0.1;
  option dhcp-lease-time 600;
  renew 4 2037/01/01 00:00:00;
  rebind 4 2037/01/01 00:00:00;
  expire 4 2037/01/01 00:00:00;
}
EOF
make_lan 52:54:00:77:00:04
start_dhcpd $s eth0; start_capture $s
nsx cli timeout 30 dhclient -4 -1 -cf "$W/$s/dhclient.conf" -lf "$W/$s/dhclient.leases" -pf "$W/$s/dhclient.pid" \
  -sf "$W/client-script" eth0 >"$W/$s/client.log" 2>&1 || true
finish $s "ISC dhclient 4.4.3-P1" "dhclient -4 -1 eth0 with a lease for 10.66.0.42 in its lease file"

# dhcpcd needs writable state directories: tmpfs inside the ip-netns-exec mount namespace.
dhcpcd_in_cli() {
  nsx cli sh -c 'mount -t tmpfs tmpfs /var/lib/dhcpcd && mkdir -p /run/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd && : > /run/dhcpcd/resolv.conf && mount --bind /run/dhcpcd/resolv.conf /etc/resolv.conf && exec "$@"' dhcpcd-wrap "$@"
}

# 5. dhcpcd: DORA with FQDN and client id, then RELEASE (-k) in the same mount namespace.
s=dhcpcd-dora-release; mkdir -p "$W/$s"
{ base_conf; subnet_conf; } > "$W/$s/dhcpd.conf"
cat > "$W/$s/dhcpcd.conf" <<'EOF'
noipv6rs
ipv4only
noarp
option domain_search, ntp_servers, interface_mtu
fqdn both
hostname wcap-dhcpcd
EOF
make_lan 52:54:00:77:00:05
start_dhcpd $s eth0; start_capture $s
nsx cli sh -c 'mount -t tmpfs tmpfs /var/lib/dhcpcd && mkdir -p /run/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd && : > /run/dhcpcd/resolv.conf && mount --bind /run/dhcpcd/resolv.conf /etc/resolv.conf &&
  (timeout 20 dhcpcd -B -4 -f "$1" -c "$2" eth0 &) ; sleep 4; timeout 10 dhcpcd -4 -c "$2" -k eth0; sleep 1' wrap \
  "$W/$s/dhcpcd.conf" "$W/client-script" >"$W/$s/client.log" 2>&1 || true
finish $s "dhcpcd 9.4.1" "dhcpcd -B -4 -f dhcpcd.conf eth0 (noarp, fqdn both, hostname wcap-dhcpcd); dhcpcd -k eth0"

# 6. dhcpcd INFORM for a statically configured address (dhcpcd -s).
s=dhcpcd-inform; mkdir -p "$W/$s"
{ base_conf; subnet_conf; } > "$W/$s/dhcpd.conf"
printf 'noipv6rs\nipv4only\nnoarp\n' > "$W/$s/dhcpcd.conf"
make_lan 52:54:00:77:00:06
ip -n "$P-cli" addr add 10.77.0.60/24 dev eth0
start_dhcpd $s eth0; start_capture $s
nsx cli sh -c 'mount -t tmpfs tmpfs /var/lib/dhcpcd && mkdir -p /run/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd && : > /run/dhcpcd/resolv.conf && mount --bind /run/dhcpcd/resolv.conf /etc/resolv.conf &&
  timeout 6 dhcpcd -B -4 -f "$1" --inform=10.77.0.60/24 eth0' wrap "$W/$s/dhcpcd.conf" >"$W/$s/client.log" 2>&1 || true
finish $s "dhcpcd 9.4.1" "ip addr add 10.77.0.60/24 dev eth0; dhcpcd -B -4 --inform=10.77.0.60/24 eth0"

# 7. dhcpcd DECLINE: the offered address already answers ARP (the server namespace owns it).
s=dhcpcd-decline; mkdir -p "$W/$s"
{ base_conf; cat <<'EOF'
subnet 10.77.0.0 netmask 255.255.255.0 {
  range 10.77.0.100 10.77.0.100;
  option routers 10.77.0.1;
}
EOF
} > "$W/$s/dhcpd.conf"
printf 'noipv6rs\nipv4only\n' > "$W/$s/dhcpcd.conf"
make_lan 52:54:00:77:00:07
ip -n "$P-srv" addr add 10.77.0.100/24 dev eth0
start_dhcpd $s eth0; start_capture $s
nsx cli sh -c 'mount -t tmpfs tmpfs /var/lib/dhcpcd && mkdir -p /run/dhcpcd && mount -t tmpfs tmpfs /run/dhcpcd && : > /run/dhcpcd/resolv.conf && mount --bind /run/dhcpcd/resolv.conf /etc/resolv.conf &&
  exec dhcpcd -B -4 -f "$1" eth0' wrap "$W/$s/dhcpcd.conf" >"$W/$s/client.log" 2>&1 &
PIDS+=($!)
wait_log "$W/$s/dhcpd.log" 'DHCPDECLINE'
finish $s "dhcpcd 9.4.1" "dhcpcd -B -4 eth0 while the only pool address 10.77.0.100 answers ARP (DECLINE)"

# 8. Long options and overload: a 300+ octet domain-search (RFC 3396 split) plus filler options that do
#    not fit in 312 octets, so ISC overloads file and sname (option 52). Requested by dhclient.
s=dhclient-long-overload; mkdir -p "$W/$s"
{ base_conf; cat <<'EOF'
subnet 10.77.0.0 netmask 255.255.255.0 {
  range 10.77.0.100 10.77.0.200;
  option routers 10.77.0.1;
  option domain-name-servers 10.77.0.1, 10.77.0.2, 10.77.0.3, 10.77.0.4, 10.77.0.5, 10.77.0.6;
  option domain-search "first-long-domain-name-for-testing.alpha.example.test",
    "second-long-domain-name-for-testing.bravo.example.test",
    "third-long-domain-name-for-testing.charlie.example.test",
    "fourth-long-domain-name-for-testing.delta.example.test",
    "fifth-long-domain-name-for-testing.echo.example.test",
    "sixth-long-domain-name-for-testing.foxtrot.example.org";
  option ntp-servers 10.77.0.3, 10.77.0.4, 10.77.0.5, 10.77.0.6, 10.77.0.7, 10.77.0.8;
  option nis-domain "a-rather-long-nis-domain-name-that-takes-space.example.test";
  option root-path "/export/root/a-rather-long-root-path-for-the-overload-test/client";
}
EOF
} > "$W/$s/dhcpd.conf"
cat > "$W/$s/dhclient.conf" <<'EOF'
request subnet-mask, routers, domain-name, domain-name-servers, domain-search, ntp-servers, nis-domain,
        root-path, host-name;
EOF
make_lan 52:54:00:77:00:08
start_dhcpd $s eth0; start_capture $s
nsx cli timeout 20 dhclient -4 -1 -cf "$W/$s/dhclient.conf" -lf "$W/$s/dhclient.leases" -pf "$W/$s/dhclient.pid" \
  -sf "$W/client-script" eth0 >"$W/$s/client.log" 2>&1 || true
finish $s "ISC dhclient 4.4.3-P1" "dhclient -4 -1 eth0 requesting a 323-octet domain-search and long options"

# 8b. A "Microsoft-style" client whose host-name ends in NUL: ISC NUL-terminates the text options of its
#     replies (MS_NULL_TERMINATION). dhclient sends host-name "wcap\000".
s=dhclient-ms-nul-hostname; mkdir -p "$W/$s"
{ base_conf; cat <<'EOF'
subnet 10.77.0.0 netmask 255.255.255.0 {
  range 10.77.0.100 10.77.0.200;
  option routers 10.77.0.1;
  option root-path "/srv/root";
}
EOF
} > "$W/$s/dhcpd.conf"
printf 'send host-name "wcap\\000";\nrequest subnet-mask, routers, domain-name, root-path, host-name;\n' > "$W/$s/dhclient.conf"
make_lan 52:54:00:77:00:0d
start_dhcpd $s eth0; start_capture $s
nsx cli timeout 20 dhclient -4 -1 -cf "$W/$s/dhclient.conf" -lf "$W/$s/dhclient.leases" -pf "$W/$s/dhclient.pid" \
  -sf "$W/client-script" eth0 >"$W/$s/client.log" 2>&1 || true
finish $s "ISC dhclient 4.4.3-P1" "dhclient -4 -1 eth0 with send host-name \"wcap\\000\""

# 9. Relayed: client (udhcpc) -- relay (ISC dhcrelay -a, adds option 82) -- server; captured on the server link.
s=relay-agent-option82; mkdir -p "$W/$s"
{ base_conf; cat <<'EOF'
subnet 10.77.0.0 netmask 255.255.255.0 { }
subnet 10.79.0.0 netmask 255.255.255.0 {
  range 10.79.0.100 10.79.0.200;
  option routers 10.79.0.1;
}
EOF
} > "$W/$s/dhcpd.conf"
ip netns add "$P-srv"; ip netns add "$P-rly"; ip netns add "$P-cli"
ip -n "$P-srv" link add eth0 type veth peer name up0 netns "$P-rly"
ip -n "$P-rly" link add down0 type veth peer name eth0 netns "$P-cli"
ip -n "$P-cli" link set eth0 address 52:54:00:77:00:09
ip -n "$P-srv" link set eth0 address 02:77:00:00:00:01
ip -n "$P-srv" addr add 10.77.0.1/24 dev eth0
ip -n "$P-rly" addr add 10.77.0.2/24 dev up0
ip -n "$P-rly" addr add 10.79.0.1/24 dev down0
for n in srv rly cli; do ip -n "$P-$n" link set lo up; done
ip -n "$P-srv" link set eth0 up; ip -n "$P-rly" link set up0 up; ip -n "$P-rly" link set down0 up; ip -n "$P-cli" link set eth0 up
ip -n "$P-srv" route add 10.79.0.0/24 via 10.77.0.2
start_dhcpd $s eth0; start_capture $s
nsx rly dhcrelay -4 -d -a -pf "$W/$s/dhcrelay.pid" -id down0 -iu up0 10.77.0.1 > "$W/$s/dhcrelay.log" 2>&1 &
PIDS+=($!)
sleep 1
nsx cli timeout 20 udhcpc -i eth0 -f -q -n -t 3 -T 2 -A 1 -s "$W/client-script" >"$W/$s/client.log" 2>&1 || true
finish $s "udhcpc (BusyBox v1.35.0) behind ISC dhcrelay 4.4.3-P1 -a" "udhcpc on 10.79.0.0/24; dhcrelay -4 -a -id down0 -iu up0 10.77.0.1"

# 10. perfdhcp (Kea): a few four-way exchanges with generated MACs.
s=perfdhcp-dora; mkdir -p "$W/$s"
{ base_conf; subnet_conf; } > "$W/$s/dhcpd.conf"
make_lan 52:54:00:77:00:0a
ip -n "$P-cli" addr add 10.77.0.9/24 dev eth0
start_dhcpd $s eth0; start_capture $s
nsx cli timeout 20 perfdhcp -4 -l eth0 -r 2 -n 3 -R 3 -p 6 >"$W/$s/client.log" 2>&1 || true
finish $s "perfdhcp (Kea)" "perfdhcp -4 -l eth0 -r 2 -n 3 -R 3"

# 11. BOOTP: klibc ipconfig (klibc-utils) sends a 236-octet BOOTREQUEST with no vendor area; ISC answers
#     from a dynamic-bootp range with next-server and filename, in its 64-octet BOOTP option space.
s=bootp-klibc-ipconfig; mkdir -p "$W/$s"
{ base_conf; cat <<'EOF'
subnet 10.77.0.0 netmask 255.255.255.0 {
  range dynamic-bootp 10.77.0.100 10.77.0.200;
  option routers 10.77.0.1;
  option domain-name-servers 10.77.0.1, 10.77.0.2;
  next-server 10.77.0.1;
  filename "pxelinux.0";
}
EOF
} > "$W/$s/dhcpd.conf"
make_lan 52:54:00:77:00:0c
start_dhcpd $s eth0; start_capture $s
nsx cli timeout 15 /usr/lib/klibc/bin/ipconfig -c bootp -n -t 5 -d eth0 >"$W/$s/client.log" 2>&1 || true
finish $s "klibc ipconfig 2.0.12 (Debian klibc-utils)" "/usr/lib/klibc/bin/ipconfig -c bootp -n -t 5 -d eth0"

# 12. ISC's accept/drop verdict on hand-made edge cases (test/support/isc-verdict-cases.ts): each is sent alone
#     and the dhcpd log lines it caused are recorded (test/wire/isc-verdicts.test.ts compares decodePacket).
s=isc-verdicts; mkdir -p "$W/$s"
{ base_conf; subnet_conf; } > "$W/$s/dhcpd.conf"
make_lan 52:54:00:77:00:0b
ip -n "$P-cli" addr add 10.77.0.9/24 dev eth0
start_dhcpd $s eth0
nsx cli node --import tsx "$REPO/test/support/send-verdict-cases.ts" 10.77.0.1 "$W/$s/dhcpd.log" "$OUT/$s.json" \
  "Real run: each case sent alone by test/support/send-verdict-cases.ts from a namespace created by test/support/capture-wire-vectors.sh to ISC dhcpd 4.4.3-P1 (-d); iscLog holds the dhcpd log lines it caused."
drop_lan

echo "fixtures written to $OUT"
