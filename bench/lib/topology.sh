# bench/lib/topology.sh - the private test LAN (sourced by bench/run.sh).
#
#   ns dtb<PID>c  [cli0 198.18.0.10/16] --veth-- bp-c  +
#   ns dtb<PID>s0 [srv0 198.18.0.1/16 ] --veth-- bp-s0 + br0 in ns dtb<PID>br (STP off)
#   ns dtb<PID>s1 [srv0 198.18.0.2/16 ] --veth-- bp-s1 +   (second failover peer)
#
# The veths are created inside the namespaces (`ip -n`), so nothing touches the host's
# own namespace; IPv6 is off inside them (no RS/ND chatter). Names embed the harness PID
# so a later run can delete the leftovers of a SIGKILLed one (sweep_stale_ns).

NS_C=dtb$$c; NS_BR=dtb$$br; NS_S0=dtb$$s0; NS_S1=dtb$$s1
SRV_IF=srv0; CLI_IF=cli0
SRV_IP0=198.18.0.1; SRV_IP1=198.18.0.2; CLI_IP=198.18.0.10
NET=198.18.0.0; MASK=255.255.0.0; PLEN=16
POOL_FIRST=198.18.1.1; POOL_LAST=198.18.255.254   # 65 278 addresses
LEASE_TIME=3600

sweep_stale_ns() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^dtb[0-9]+(c|br|s0|s1)$'); do
    pid=${ns#dtb}; pid=${pid%%[a-z]*}
    [ "$pid" = "$$" ] && continue
    kill -0 "$pid" 2>/dev/null || { ip netns del "$ns" 2>/dev/null && blog "removed stale namespace $ns"; }
  done
}

topology_up() {
  local ns i f
  for ns in "$NS_BR" "$NS_C" "$NS_S0" "$NS_S1"; do
    ip netns add "$ns" || return 1
    BENCH_NS+=("$ns")
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip -n "$NS_BR" link add br0 type bridge stp_state 0 forward_delay 0 || return 1
  for f in bridge-nf-call-iptables bridge-nf-call-ip6tables bridge-nf-call-arptables; do
    [ -w /proc/sys/net/bridge/$f ] && ip netns exec "$NS_BR" sh -c "echo 0 > /proc/sys/net/bridge/$f" 2>/dev/null
  done
  ip -n "$NS_BR" link set br0 up
  ip -n "$NS_C" link add "$CLI_IF" type veth peer name bp-c netns "$NS_BR" || return 1
  ip -n "$NS_C" addr add "$CLI_IP/$PLEN" dev "$CLI_IF"
  ip -n "$NS_C" link set "$CLI_IF" up
  ip -n "$NS_BR" link set bp-c master br0; ip -n "$NS_BR" link set bp-c up
  local sns=("$NS_S0" "$NS_S1") sip=("$SRV_IP0" "$SRV_IP1")
  for i in 0 1; do
    ip -n "${sns[$i]}" link add "$SRV_IF" type veth peer name bp-s$i netns "$NS_BR" || return 1
    ip -n "${sns[$i]}" addr add "${sip[$i]}/$PLEN" dev "$SRV_IF"
    ip -n "${sns[$i]}" link set "$SRV_IF" up
    ip -n "$NS_BR" link set bp-s$i master br0; ip -n "$NS_BR" link set bp-s$i up
  done
  sleep 1
}
