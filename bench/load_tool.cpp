// A constant request load for bench/swap: GET / with a Host header, one connection per
// request, back to back, until SIGTERM. Prints one line per request:
//   START_UNIX_NS LATENCY_US STATUS FIRST_BODY_LINE
// (status 0: no HTTP answer).
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

volatile std::sig_atomic_t g_stop = 0;

long long now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: load_tool PORT HOST\n");
    return 2;
  }
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::stoi(argv[1])));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string request = std::string("GET / HTTP/1.0\r\nHost: ") + argv[2] + "\r\n\r\n";
  while (!g_stop) {
    long long wall = now_ns(CLOCK_REALTIME);
    long long start = now_ns(CLOCK_MONOTONIC);
    std::string received;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n = 0;
      while ((n = read(fd, buffer, sizeof buffer)) > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
      }
    }
    close(fd);
    long long latency_us = (now_ns(CLOCK_MONOTONIC) - start) / 1000;
    int status = received.starts_with("HTTP/1.") && received.size() >= 12
                     ? std::stoi(received.substr(9, 3))
                     : 0;
    auto body = received.find("\r\n\r\n");
    std::string first = body == std::string::npos ? "" : received.substr(body + 4);
    first = first.substr(0, first.find('\n'));
    for (char& c : first) {
      if (c == ' ' || c == '\r') {
        c = '_';
      }
    }
    std::printf("%lld %lld %d %s\n", wall, latency_us, status, first.empty() ? "-" : first.c_str());
  }
  std::fflush(stdout);
  return 0;
}
