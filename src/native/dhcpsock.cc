// dhcpsock: the system calls a DHCPv4 server needs and node:dgram lacks (Linux only).
//
// - UdpSocket: UDP with IP_PKTINFO, so each datagram reports its arrival interface and header destination,
//   and replies can leave through a chosen interface with a chosen source address (RFC 2131 4.1 broadcast).
// - PacketSocket: AF_PACKET SOCK_DGRAM send of an IPv4 datagram to a MAC address, the client that has no
//   address yet (RFC 2131 4.1 "unicast to yiaddr at chaddr") without ARP and without a neighbour entry.
// - IcmpSocket: raw ICMP for ISC's ping-check (only echo replies are let through, ICMP_FILTER).
// - unixDatagramSend: AF_UNIX SOCK_DGRAM send for syslog on /dev/log (connected, kept across chroot), never blocking; UnixDatagramSocket
//   receives on such a socket (a stand-in /dev/log for tests).
//
// Everything else (packet building, checksums, policy, interface names) lives in TypeScript. Errors are
// thrown as JS Errors with `code` (errno name, e.g. "EADDRINUSE"), `errno` and `syscall`, as Node does.
// Readiness comes from a uv_poll_t on the event loop; every readiness event drains up to kBatch datagrams
// inside one callback scope (one JS entry per batch, not per datagram). Each UDP datagram carries the
// kernel's arrival time (SO_TIMESTAMPNS), so that an overloaded server can tell fresh requests from stale ones.

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netpacket/packet.h>
#include <cstddef>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <ctime>
#include <unistd.h>

// From <linux/icmp.h>, which cannot be included together with glibc's <net/if.h>.
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
struct IcmpFilter {
  uint32_t data;
};

namespace {

constexpr int kBatch = 64;
// The DHCP socket drains more per readiness: under overload the server wants to see the whole backlog (to
// answer the newest requests first and shed stale ones) rather than the oldest 64.
constexpr int kUdpBatch = 4096;
constexpr size_t kMaxDatagram = 65536;

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& detail = "") {
  std::string msg = std::string(syscall) + " " + uv_err_name(-err) + " (" + std::strerror(err) + ")";
  if (!detail.empty()) msg += " " + detail;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, uv_err_name(-err)));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Object ErrnoObject(Napi::Env env, int err, const char* syscall) {
  return ErrnoError(env, err, syscall).Value();
}

uint32_t ArgU32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " must be an unsigned 32-bit integer");
  }
  return static_cast<uint32_t>(d);
}

Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsBuffer()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Buffer");
  }
  return info[i].As<Napi::Buffer<uint8_t>>();
}

Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsFunction()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a function");
  }
  return info[i].As<Napi::Function>();
}

// Readiness watcher shared by the receiving sockets. The uv_poll_t is heap-allocated and freed in the
// close callback, because uv_close is asynchronous and the owning JS object may be gone by then.
class Poller {
 public:
  using Drain = void (*)(void* owner);

  Poller() = default;
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  int Start(uv_loop_t* loop, int fd, void* owner, Drain drain) {
    if (handle_ != nullptr) return 0;
    handle_ = new uv_poll_t;
    int r = uv_poll_init(loop, handle_, fd);
    if (r != 0) {
      delete handle_;
      handle_ = nullptr;
      return r;
    }
    owner_ = owner;
    drain_ = drain;
    handle_->data = this;
    r = uv_poll_start(handle_, UV_READABLE, OnReady);
    if (r != 0) Stop();
    return r;
  }

  void Stop() {
    if (handle_ == nullptr) return;
    uv_poll_stop(handle_);
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
  }

  void Ref(bool ref) {
    if (handle_ == nullptr) return;
    if (ref) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    else uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
  }

  bool Active() const { return handle_ != nullptr; }

 private:
  static void OnReady(uv_poll_t* h, int status, int /*events*/) {
    Poller* self = static_cast<Poller*>(h->data);
    if (self == nullptr) return;
    (void)status;  // errors surface from recvmsg itself
    self->drain_(self->owner_);
  }

  uv_poll_t* handle_ = nullptr;
  void* owner_ = nullptr;
  Drain drain_ = nullptr;
};

// Calls `fn` with `args`; a JS exception in the callback becomes an uncaught exception of the process (as for
// any event-emitter callback) instead of unwinding through libuv.
void SafeCall(Napi::Env env, const Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args) {
  try {
    fn.Call(args);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

// Holds a reference to the JS wrapper for the duration of a drain: a close() called from inside a callback
// drops the reference taken by start(), and the object must not be collected while Drain() still runs.
template <typename T>
class DrainGuard {
 public:
  explicit DrainGuard(T* self) : self_(self) { self_->Ref(); }
  ~DrainGuard() { self_->Unref(); }
  DrainGuard(const DrainGuard&) = delete;
  DrainGuard& operator=(const DrainGuard&) = delete;

 private:
  T* self_;
};

// ---------------------------------------------------------------------------------------------------------
// UdpSocket

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "UdpSocket",
                       {InstanceMethod<&UdpSocket::Start>("start"), InstanceMethod<&UdpSocket::Send>("send"),
                        InstanceMethod<&UdpSocket::Close>("close"), InstanceMethod<&UdpSocket::SetRef>("setRef"),
                        InstanceMethod<&UdpSocket::LocalPort>("localPort"),
                        InstanceMethod<&UdpSocket::ReceiveBufferSize>("receiveBufferSize")});
  }

  // new UdpSocket(port, address = 0 (INADDR_ANY), device = "", receiveBufferSize = 0 (kernel default))
  explicit UdpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocket>(info) {
    Napi::Env env = info.Env();
    uint32_t port = ArgU32(info, 0, "port");
    if (port > 65535) throw Napi::RangeError::New(env, "port out of range");
    uint32_t address = info.Length() > 1 && !info[1].IsUndefined() ? ArgU32(info, 1, "address") : 0;
    std::string device;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsString()) throw Napi::TypeError::New(env, "device must be a string");
      device = info[2].As<Napi::String>().Utf8Value();
      if (device.size() >= IFNAMSIZ) throw Napi::RangeError::New(env, "device name too long");
    }
    uint32_t rcvbuf = info.Length() > 3 && !info[3].IsUndefined() ? ArgU32(info, 3, "receiveBufferSize") : 0;
    if (rcvbuf > 0x7fffffff / 2) throw Napi::RangeError::New(env, "receiveBufferSize too large");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) throw ErrnoError(env, errno, "socket");
    int one = 1;
    const char* failed = nullptr;
    if (rcvbuf != 0) {
      // A larger queue absorbs bursts while JS is busy. SO_RCVBUFFORCE passes net.core.rmem_max when we have
      // CAP_NET_ADMIN; otherwise SO_RCVBUF (silently capped by the kernel).
      int size = static_cast<int>(rcvbuf);
      if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0 &&
          setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0)
        failed = "setsockopt(SO_RCVBUF)";
    }
    if (failed != nullptr) {
      // reported below
    } else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) failed = "setsockopt(SO_REUSEADDR)";
    else if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) failed = "setsockopt(SO_BROADCAST)";
    else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0) failed = "setsockopt(IP_PKTINFO)";
    else if (!device.empty() &&
             setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size() + 1)) < 0)
      failed = "setsockopt(SO_BINDTODEVICE)";
    // Arrival timestamps are an optimisation (load shedding); without them JS uses its own clock.
    if (failed == nullptr) (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    if (failed == nullptr) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_port = htons(static_cast<uint16_t>(port));
      sin.sin_addr.s_addr = htonl(address);
      if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0) failed = "bind";
    }
    if (failed != nullptr) {
      int err = errno;
      ::close(fd);
      throw ErrnoError(env, err, failed);
    }
    fd_ = fd;
  }

  ~UdpSocket() override { CloseFd(); }

 private:
  // start(onDatagram(data, ifindex, srcAddr, srcPort, dstAddr, arrivedMs), onError(err)); arrivedMs = kernel
  // receive time in ms since the epoch (SO_TIMESTAMPNS), 0 when the kernel gave none
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "start");
    if (poller_.Active()) throw Napi::Error::New(env, "already started");
    onDatagram_ = Napi::Persistent(ArgFunction(info, 0, "onDatagram"));
    onError_ = Napi::Persistent(ArgFunction(info, 1, "onError"));
    context_ = std::make_unique<Napi::AsyncContext>(env, "dhcpsock.UdpSocket");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    int r = poller_.Start(loop, fd_, this, [](void* self) { static_cast<UdpSocket*>(self)->Drain(); });
    if (r != 0) throw ErrnoError(env, -r, "uv_poll_start");
    Ref();  // keep the JS object alive while it can call back
    return env.Undefined();
  }

  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope hs(env);
    DrainGuard<UdpSocket> guard(this);
    Napi::CallbackScope cs(env, *context_);
    // recvmmsg: up to kMmsg datagrams per system call (a flood is read at a fraction of the syscall cost).
    // The slots are static (one drain at a time on the loop thread); only the pages a datagram touches
    // become resident.
    constexpr int kMmsg = 64;
    constexpr size_t kControl = CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(timespec));
    static uint8_t bufs[kMmsg][kMaxDatagram];
    alignas(cmsghdr) static char controls[kMmsg][kControl];
    sockaddr_in froms[kMmsg];
    iovec iovs[kMmsg];
    mmsghdr msgs[kMmsg];
    int total = 0;
    while (total < kUdpBatch && fd_ >= 0) {
      for (int i = 0; i < kMmsg; i++) {
        iovs[i] = iovec{bufs[i], kMaxDatagram};
        std::memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_name = &froms[i];
        msgs[i].msg_hdr.msg_namelen = sizeof froms[i];
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = controls[i];
        msgs[i].msg_hdr.msg_controllen = kControl;
      }
      int got = recvmmsg(fd_, msgs, kMmsg, MSG_DONTWAIT, nullptr);
      if (got < 0) {
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        if (err == EINTR) continue;
        SafeCall(env, onError_, {ErrnoObject(env, err, "recvmsg")});
        break;
      }
      for (int i = 0; i < got && fd_ >= 0; i++) {
        Napi::HandleScope inner(env);
        msghdr& msg = msgs[i].msg_hdr;
        size_t len = msgs[i].msg_len;
        uint32_t ifindex = 0, dst = 0;
        double arrivedMs = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo pi;
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            ifindex = static_cast<uint32_t>(pi.ipi_ifindex);
            dst = ntohl(pi.ipi_addr.s_addr);
          } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts;
            std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
            arrivedMs = static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
          }
        }
        if ((msg.msg_flags & MSG_TRUNC) != 0) {
          SafeCall(env, onError_, {ErrnoObject(env, EMSGSIZE, "recvmsg")});
          continue;
        }
        SafeCall(env, onDatagram_,
                 {Napi::Buffer<uint8_t>::Copy(env, bufs[i], len), Napi::Number::New(env, ifindex),
                  Napi::Number::New(env, ntohl(froms[i].sin_addr.s_addr)), Napi::Number::New(env, ntohs(froms[i].sin_port)),
                  Napi::Number::New(env, dst), Napi::Number::New(env, arrivedMs)});
      }
      total += got;
      if (got < kMmsg) break;  // the queue is empty (or nearly): the next readiness event brings the rest
    }
  }

  // send(data, dstAddr, dstPort, ifindex = 0, srcAddr = 0) -> bytes sent
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "sendmsg");
    Napi::Buffer<uint8_t> data = ArgBuffer(info, 0, "data");
    uint32_t dst = ArgU32(info, 1, "address");
    uint32_t port = ArgU32(info, 2, "port");
    if (port > 65535) throw Napi::RangeError::New(env, "port out of range");
    uint32_t ifindex = info.Length() > 3 && !info[3].IsUndefined() ? ArgU32(info, 3, "ifindex") : 0;
    uint32_t src = info.Length() > 4 && !info[4].IsUndefined() ? ArgU32(info, 4, "sourceAddress") : 0;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(dst);
    iovec iov{data.Data(), data.Length()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (ifindex != 0 || src != 0) {
      // IP_PKTINFO on send: ipi_ifindex picks the outgoing interface (also for 255.255.255.255),
      // ipi_spec_dst the source address (ip(7)).
      std::memset(control, 0, sizeof control);
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo pi{};
      pi.ipi_ifindex = static_cast<int>(ifindex);
      pi.ipi_spec_dst.s_addr = htonl(src);
      std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
    ssize_t n;
    do {
      n = sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw ErrnoError(env, errno, "sendmsg");
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value LocalPort(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "getsockname");
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) < 0) throw ErrnoError(env, errno, "getsockname");
    return Napi::Number::New(env, ntohs(sin.sin_port));
  }

  // The kernel's receive buffer size (SO_RCVBUF as read back: twice the requested bytes, see socket(7)).
  Napi::Value ReceiveBufferSize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "getsockopt");
    int size = 0;
    socklen_t len = sizeof size;
    if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, &len) < 0) throw ErrnoError(env, errno, "getsockopt(SO_RCVBUF)");
    return Napi::Number::New(env, size);
  }

  Napi::Value SetRef(const Napi::CallbackInfo& info) {
    poller_.Ref(info.Length() > 0 && info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasStarted = poller_.Active();
    CloseFd();
    if (wasStarted) {
      onDatagram_.Reset();
      onError_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  void CloseFd() {
    poller_.Stop();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  int fd_ = -1;
  Poller poller_;
  Napi::FunctionReference onDatagram_;
  Napi::FunctionReference onError_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

// ---------------------------------------------------------------------------------------------------------
// PacketSocket: send-only (protocol 0 means the kernel delivers nothing to it).

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {InstanceMethod<&PacketSocket::Send>("send"), InstanceMethod<&PacketSocket::Close>("close")});
  }

  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw ErrnoError(info.Env(), errno, "socket(AF_PACKET)");
    fd_ = fd;
  }

  ~PacketSocket() override {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  // send(ifindex, mac: Buffer(6), ipv4Datagram: Buffer) -> bytes sent. The kernel adds the Ethernet header
  // (destination `mac`, our source MAC, EtherType IPv4); no ARP is involved.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "sendto");
    uint32_t ifindex = ArgU32(info, 0, "ifindex");
    Napi::Buffer<uint8_t> mac = ArgBuffer(info, 1, "mac");
    Napi::Buffer<uint8_t> data = ArgBuffer(info, 2, "datagram");
    if (mac.Length() != ETH_ALEN) throw Napi::RangeError::New(env, "mac must be 6 bytes");
    if (ifindex == 0 || ifindex > 0x7fffffff) throw Napi::RangeError::New(env, "ifindex out of range");
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = static_cast<int>(ifindex);
    sll.sll_halen = ETH_ALEN;
    std::memcpy(sll.sll_addr, mac.Data(), ETH_ALEN);
    ssize_t n;
    do {
      n = sendto(fd_, data.Data(), data.Length(), MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sll),
                 sizeof sll);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw ErrnoError(env, errno, "sendto(AF_PACKET)");
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    return info.Env().Undefined();
  }

  int fd_ = -1;
};

// ---------------------------------------------------------------------------------------------------------
// IcmpSocket: raw ICMP, receives echo replies only.

class IcmpSocket : public Napi::ObjectWrap<IcmpSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "IcmpSocket",
                       {InstanceMethod<&IcmpSocket::Start>("start"), InstanceMethod<&IcmpSocket::Send>("send"),
                        InstanceMethod<&IcmpSocket::Close>("close"), InstanceMethod<&IcmpSocket::SetRef>("setRef")});
  }

  explicit IcmpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IcmpSocket>(info) {
    Napi::Env env = info.Env();
    int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) throw ErrnoError(env, errno, "socket(SOCK_RAW, IPPROTO_ICMP)");
    // ICMP_FILTER (raw(7)): a set bit drops that type; let only echo replies through.
    IcmpFilter filt{};
    filt.data = ~(1U << ICMP_ECHOREPLY);
    if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof filt) < 0) {
      int err = errno;
      ::close(fd);
      throw ErrnoError(env, err, "setsockopt(ICMP_FILTER)");
    }
    fd_ = fd;
  }

  ~IcmpSocket() override {
    poller_.Stop();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  // start(onReply(ipDatagram: Buffer, srcAddr), onError(err)); the datagram includes the IP header.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "start");
    if (poller_.Active()) throw Napi::Error::New(env, "already started");
    onReply_ = Napi::Persistent(ArgFunction(info, 0, "onReply"));
    onError_ = Napi::Persistent(ArgFunction(info, 1, "onError"));
    context_ = std::make_unique<Napi::AsyncContext>(env, "dhcpsock.IcmpSocket");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    int r = poller_.Start(loop, fd_, this, [](void* self) { static_cast<IcmpSocket*>(self)->Drain(); });
    if (r != 0) throw ErrnoError(env, -r, "uv_poll_start");
    Ref();
    return env.Undefined();
  }

  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope hs(env);
    DrainGuard<IcmpSocket> guard(this);
    Napi::CallbackScope cs(env, *context_);
    uint8_t buf[4096];
    for (int n = 0; n < kBatch && fd_ >= 0; n++) {
      Napi::HandleScope inner(env);
      sockaddr_in from{};
      socklen_t fromlen = sizeof from;
      ssize_t len = recvfrom(fd_, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (len < 0) {
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        if (err == EINTR) continue;
        SafeCall(env, onError_, {ErrnoObject(env, err, "recvfrom")});
        break;
      }
      SafeCall(env, onReply_,
               {Napi::Buffer<uint8_t>::Copy(env, buf, static_cast<size_t>(len)),
                Napi::Number::New(env, ntohl(from.sin_addr.s_addr))});
    }
  }

  // send(icmpMessage: Buffer, dstAddr) -> bytes sent (the kernel adds the IP header).
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "sendto");
    Napi::Buffer<uint8_t> data = ArgBuffer(info, 0, "data");
    uint32_t dst = ArgU32(info, 1, "address");
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(dst);
    ssize_t n;
    do {
      n = sendto(fd_, data.Data(), data.Length(), MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&to),
                 sizeof to);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw ErrnoError(env, errno, "sendto(ICMP)");
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value SetRef(const Napi::CallbackInfo& info) {
    poller_.Ref(info.Length() > 0 && info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasStarted = poller_.Active();
    poller_.Stop();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (wasStarted) {
      onReply_.Reset();
      onError_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  int fd_ = -1;
  Poller poller_;
  Napi::FunctionReference onReply_;
  Napi::FunctionReference onError_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

// ---------------------------------------------------------------------------------------------------------
// UnixDatagramSocket: a bound AF_UNIX SOCK_DGRAM receiver (a stand-in /dev/log for tests; Node has none).

class UnixDatagramSocket : public Napi::ObjectWrap<UnixDatagramSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "UnixDatagramSocket",
                       {InstanceMethod<&UnixDatagramSocket::Start>("start"),
                        InstanceMethod<&UnixDatagramSocket::Close>("close"),
                        InstanceMethod<&UnixDatagramSocket::SetRef>("setRef")});
  }

  // new UnixDatagramSocket(path): binds `path` (which must not exist).
  explicit UnixDatagramSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UnixDatagramSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
    std::string path = info[0].As<Napi::String>().Utf8Value();
    sockaddr_un sun{};
    if (path.empty() || path.size() >= sizeof sun.sun_path) throw Napi::RangeError::New(env, "bad socket path length");
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.data(), path.size());
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw ErrnoError(env, errno, "socket(AF_UNIX)");
    if (bind(fd, reinterpret_cast<sockaddr*>(&sun), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1)) < 0) {
      int err = errno;
      ::close(fd);
      throw ErrnoError(env, err, "bind", path);
    }
    fd_ = fd;
  }

  ~UnixDatagramSocket() override {
    poller_.Stop();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  // start(onDatagram(data), onError(err))
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, EBADF, "start");
    if (poller_.Active()) throw Napi::Error::New(env, "already started");
    onDatagram_ = Napi::Persistent(ArgFunction(info, 0, "onDatagram"));
    onError_ = Napi::Persistent(ArgFunction(info, 1, "onError"));
    context_ = std::make_unique<Napi::AsyncContext>(env, "dhcpsock.UnixDatagramSocket");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    int r = poller_.Start(loop, fd_, this, [](void* self) { static_cast<UnixDatagramSocket*>(self)->Drain(); });
    if (r != 0) throw ErrnoError(env, -r, "uv_poll_start");
    Ref();
    return env.Undefined();
  }

  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope hs(env);
    DrainGuard<UnixDatagramSocket> guard(this);
    Napi::CallbackScope cs(env, *context_);
    static uint8_t buf[kMaxDatagram];
    for (int n = 0; n < kBatch && fd_ >= 0; n++) {
      Napi::HandleScope inner(env);
      ssize_t len = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (len < 0) {
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        if (err == EINTR) continue;
        SafeCall(env, onError_, {ErrnoObject(env, err, "recv")});
        break;
      }
      SafeCall(env, onDatagram_, {Napi::Buffer<uint8_t>::Copy(env, buf, static_cast<size_t>(len))});
    }
  }

  Napi::Value SetRef(const Napi::CallbackInfo& info) {
    poller_.Ref(info.Length() > 0 && info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasStarted = poller_.Active();
    poller_.Stop();
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (wasStarted) {
      onDatagram_.Reset();
      onError_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  int fd_ = -1;
  Poller poller_;
  Napi::FunctionReference onDatagram_;
  Napi::FunctionReference onError_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

// ---------------------------------------------------------------------------------------------------------
// Free functions

int g_unixFd = -1;
std::string g_unixPath;  // the path g_unixFd is connected to

// Connects g_unixFd to `path` (a new socket), as glibc's syslog(3) does on first use; returns 0 or an errno.
// A connected socket keeps reaching its listener after a chroot(2), as ISC dhcpd's syslog socket does (it is
// opened before the jail is entered); reconnecting by path inside a jail without the socket then fails.
int UnixConnect(const std::string& path) {
  if (g_unixFd >= 0) close(g_unixFd);
  g_unixFd = -1;
  g_unixPath.clear();
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<sockaddr*>(&sun), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int e = errno;
    close(fd);
    return e;
  }
  g_unixFd = fd;
  g_unixPath = path;
  return 0;
}

std::string UnixPathArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path)) throw Napi::RangeError::New(env, "bad socket path length");
  return path;
}

// unixDatagramConnect(path): connects the syslog socket now (before a chroot); throws with the errno code.
Napi::Value UnixDatagramConnect(const Napi::CallbackInfo& info) {
  std::string path = UnixPathArg(info);
  int e = UnixConnect(path);
  if (e != 0) throw ErrnoError(info.Env(), e, "connect(AF_UNIX)", path);
  return info.Env().Undefined();
}

// unixDatagramSend(path, data) -> bytes sent, on a socket connected to `path` (connected on first use, again
// when `path` changes or the listener went away). Never blocks: a full receive queue throws code "EAGAIN" so
// the caller (the syslog transport) can queue and retry; a missing listener throws "ENOENT"/"ECONNREFUSED".
Napi::Value UnixDatagramSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = UnixPathArg(info);
  Napi::Buffer<uint8_t> data = ArgBuffer(info, 1, "data");
  for (int attempt = 0;; attempt++) {
    if (g_unixFd < 0 || g_unixPath != path) {
      int e = UnixConnect(path);
      if (e != 0) throw ErrnoError(env, e, "connect(AF_UNIX)", path);
    }
    ssize_t n;
    do {
      n = send(g_unixFd, data.Data(), data.Length(), MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) return Napi::Number::New(env, static_cast<double>(n));
    int e = errno;
    // The listener was restarted (syslogd, journald): connect again by path once, as glibc's syslog(3) does.
    if (attempt == 0 && (e == ECONNREFUSED || e == ENOTCONN || e == ECONNRESET)) {
      close(g_unixFd);
      g_unixFd = -1;
      g_unixPath.clear();
      continue;
    }
    throw ErrnoError(env, e, "send(AF_UNIX)", path);
  }
}

// interfaceName(ifindex) -> string | undefined (if_indextoname; for an ifindex the TS map does not know yet).
Napi::Value InterfaceName(const Napi::CallbackInfo& info) {
  uint32_t ifindex = ArgU32(info, 0, "ifindex");
  char name[IF_NAMESIZE + 1] = {0};
  if (ifindex == 0 || if_indextoname(ifindex, name) == nullptr) return info.Env().Undefined();
  return Napi::String::New(info.Env(), name);
}

// chroot(path): for dhcpd's -chroot option (Node has none). The caller chdir()s afterwards.
Napi::Value Chroot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (::chroot(path.c_str()) < 0) throw ErrnoError(env, errno, "chroot", path);
  if (::chdir("/") < 0) throw ErrnoError(env, errno, "chdir", "/");
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("UdpSocket", UdpSocket::Init(env));
  exports.Set("PacketSocket", PacketSocket::Init(env));
  exports.Set("IcmpSocket", IcmpSocket::Init(env));
  exports.Set("UnixDatagramSocket", UnixDatagramSocket::Init(env));
  exports.Set("unixDatagramSend", Napi::Function::New(env, UnixDatagramSend, "unixDatagramSend"));
  exports.Set("unixDatagramConnect", Napi::Function::New(env, UnixDatagramConnect, "unixDatagramConnect"));
  exports.Set("interfaceName", Napi::Function::New(env, InterfaceName, "interfaceName"));
  exports.Set("chroot", Napi::Function::New(env, Chroot, "chroot"));
  return exports;
}

}  // namespace

NODE_API_MODULE(dhcpsock, Init)
