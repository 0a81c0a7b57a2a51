#include "common/private_hosts.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <string>

namespace slipway {

namespace {

// Whether an address is one a collaborator could use to reach into the server's network.
bool is_private(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    std::uint32_t ip = ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
    auto in = [&](std::uint32_t net, int bits) {
      std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
      return (ip & mask) == net;
    };
    return in(0x00000000, 8) || in(0x0a000000, 8) || in(0x7f000000, 8) || in(0xa9fe0000, 16) ||
           in(0xac100000, 12) || in(0xc0a80000, 16) || in(0x64400000, 10) || in(0xe0000000, 3);
  }
  if (address->sa_family == AF_INET6) {
    const auto& ip = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&ip)) {
      sockaddr_in v4{};
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr, ip.s6_addr + 12, 4);
      return is_private(reinterpret_cast<const sockaddr*>(&v4));
    }
    return IN6_IS_ADDR_LOOPBACK(&ip) || IN6_IS_ADDR_UNSPECIFIED(&ip) ||
           IN6_IS_ADDR_LINKLOCAL(&ip) || IN6_IS_ADDR_MULTICAST(&ip) ||
           (ip.s6_addr[0] & 0xfe) == 0xfc;
  }
  return true;
}

} // namespace

Expected<void> refuse_private_host(std::string_view host, std::string_view setting) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string name(host);
  int status = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
  if (status != 0) {
    return fail("cannot resolve {}: {}", name, ::gai_strerror(status));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
  for (const addrinfo* each = found; each; each = each->ai_next) {
    if (is_private(each->ai_addr)) {
      return fail_as(ErrorKind::forbidden,
                     "{} is a loopback, private or link-local address: the server does not "
                     "reach into its own network unless {} = true",
                     name, setting);
    }
  }
  return {};
}

} // namespace slipway
