// A concurrent HTTP/1.1 load for bench/api: CLIENTS threads, each with one kept-alive
// connection (opened again when the server closes it), sending `GET PATH` back to back with
// the given headers, for SECONDS (0: until SIGTERM or SIGINT). Prints one line:
//   requests N failures F rps R p50 MS p90 MS p99 MS max MS bytes B
// failures: answers other than 2xx, and requests without a whole answer (connection
// errors); the latencies (from the request's first byte written to its answer's last byte
// read) and B (the mean body size) are of the 2xx answers. What failed is told on stderr.
//
//   api_load_tool ADDRESS:PORT PATH CLIENTS SECONDS ["Name: value"...]
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>
#include <strings.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop = false;

struct Answer {
  int status = 0; // 0: no whole answer
  std::size_t body_bytes = 0;
  bool close = false; // the server closes the connection after it
};

struct Tally {
  std::vector<std::uint32_t> latencies_us; // of the 2xx answers
  std::uint64_t body_bytes = 0;
  std::uint64_t connection_errors = 0;
  std::map<int, std::uint64_t> failed_statuses;
};

// One connection's reads: buffered, with the answer's framing (Content-Length, chunked, or
// until the server closes).
class Connection {
 public:
  explicit Connection(const addrinfo* address) {
    m_fd = ::socket(address->ai_family, SOCK_STREAM, 0);
    if (m_fd < 0) {
      return;
    }
    timeval timeout{.tv_sec = 30, .tv_usec = 0};
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(m_fd, address->ai_addr, address->ai_addrlen) != 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }
  ~Connection() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool open() const { return m_fd >= 0; }

  // Whether the server closed it while it was idle (a kept-alive connection it timed out).
  bool closed_by_server() {
    if (!m_buffer.empty()) {
      return true; // bytes nobody asked for: not a connection to reuse
    }
    char byte = 0;
    ssize_t n = ::recv(m_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

  bool send_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  Answer read_answer() {
    Answer answer;
    auto head = read_until("\r\n\r\n");
    if (!head || !head->starts_with("HTTP/1.") || head->size() < 12) {
      return {};
    }
    int status = std::atoi(head->c_str() + 9);
    std::optional<std::size_t> length;
    bool chunked = false;
    bool keep_alive = false;
    std::size_t line = head->find("\r\n");
    while (line != std::string::npos && line + 2 < head->size()) {
      std::size_t end = head->find("\r\n", line + 2);
      std::string field = lower(head->substr(line + 2, end - line - 2));
      line = end;
      if (field.starts_with("content-length:")) {
        length = std::strtoull(field.c_str() + 15, nullptr, 10);
      } else if (field.starts_with("transfer-encoding:") && field.find("chunked") != field.npos) {
        chunked = true;
      } else if (field.starts_with("connection:")) {
        answer.close = field.find("close") != field.npos;
        keep_alive = field.find("keep-alive") != field.npos;
      }
    }
    if (head->starts_with("HTTP/1.0") && !keep_alive) {
      answer.close = true;
    }
    if (chunked) {
      while (true) {
        auto size_line = read_until("\r\n");
        if (!size_line) {
          return {};
        }
        std::size_t size = std::strtoull(size_line->c_str(), nullptr, 16);
        if (size == 0) {
          // Trailers, if any, end with an empty line.
          while (true) {
            auto trailer = read_until("\r\n");
            if (!trailer) {
              return {};
            }
            if (*trailer == "\r\n") {
              break;
            }
          }
          break;
        }
        if (!read_exactly(size + 2)) {
          return {};
        }
        answer.body_bytes += size;
      }
    } else if (length) {
      if (!read_exactly(*length)) {
        return {};
      }
      answer.body_bytes = *length;
    } else {
      // No framing: the body lasts until the server closes.
      answer.close = true;
      while (fill()) {
      }
      answer.body_bytes = m_buffer.size();
      m_buffer.clear();
    }
    answer.status = status;
    return answer;
  }

 private:
  static std::string lower(std::string text) {
    for (char& c : text) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
  }

  bool fill() {
    char chunk[65536];
    while (true) {
      ssize_t n = ::recv(m_fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      m_buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  // The buffered bytes up to and including `end`, taken from the buffer.
  std::optional<std::string> read_until(std::string_view end) {
    std::size_t searched = 0;
    while (true) {
      std::size_t found = m_buffer.find(end, searched);
      if (found != std::string::npos) {
        std::string taken = m_buffer.substr(0, found + end.size());
        m_buffer.erase(0, found + end.size());
        return taken;
      }
      if (m_buffer.size() > 1024 * 1024) {
        return std::nullopt;
      }
      searched = m_buffer.size() >= end.size() ? m_buffer.size() - end.size() + 1 : 0;
      if (!fill()) {
        return std::nullopt;
      }
    }
  }

  bool read_exactly(std::size_t size) {
    while (m_buffer.size() < size) {
      if (!fill()) {
        return false;
      }
    }
    m_buffer.erase(0, size);
    return true;
  }

  int m_fd = -1;
  std::string m_buffer;
};

void client(const addrinfo* address, const std::string& request, Tally& tally) {
  std::optional<Connection> connection;
  while (!g_stop) {
    if (connection && connection->closed_by_server()) {
      connection.reset();
    }
    if (!connection) {
      connection.emplace(address);
      if (!connection->open()) {
        ++tally.connection_errors;
        connection.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
    }
    auto start = Clock::now();
    Answer answer = connection->send_all(request) ? connection->read_answer() : Answer{};
    auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    if (answer.status == 0) {
      ++tally.connection_errors;
      connection.reset();
      continue;
    }
    if (answer.status >= 200 && answer.status < 300) {
      tally.latencies_us.push_back(static_cast<std::uint32_t>(latency.count()));
      tally.body_bytes += answer.body_bytes;
    } else {
      ++tally.failed_statuses[answer.status];
    }
    if (answer.close) {
      connection.reset();
    }
  }
}

double percentile_ms(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  // The nearest rank: the smallest value with at least p of them at or below it.
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1] / 1000.0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: api_load_tool ADDRESS:PORT PATH CLIENTS SECONDS [\"Name: value\"...]\n"
                 "  SECONDS 0: until SIGTERM or SIGINT\n");
    return 2;
  }
  std::string target = argv[1];
  std::size_t colon = target.rfind(':');
  int clients = std::atoi(argv[3]);
  int seconds = std::atoi(argv[4]);
  if (colon == std::string::npos || clients < 1 || seconds < 0) {
    std::fprintf(stderr, "api_load_tool: expected ADDRESS:PORT, CLIENTS >= 1, SECONDS >= 0\n");
    return 2;
  }
  std::string host = target.substr(0, colon);
  std::string port = target.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* address = nullptr;
  if (int error = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &address); error != 0) {
    std::fprintf(stderr, "api_load_tool: %s: %s\n", target.c_str(), ::gai_strerror(error));
    return 2;
  }

  std::string request = std::string("GET ") + argv[2] + " HTTP/1.1\r\n";
  bool has_host = false;
  for (int i = 5; i < argc; ++i) {
    std::string_view header = argv[i];
    has_host = has_host || (header.size() >= 5 && strncasecmp(header.data(), "host:", 5) == 0);
    request.append(header).append("\r\n");
  }
  if (!has_host) {
    request += "Host: " + target + "\r\n";
  }
  request += "\r\n";

  // The signals are taken by this thread alone, waiting for the end.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<Tally> tallies(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  auto started = Clock::now();
  for (auto& tally : tallies) {
    threads.emplace_back(client, address, std::cref(request), std::ref(tally));
  }
  auto deadline = started + std::chrono::seconds(seconds);
  while (seconds == 0 || Clock::now() < deadline) {
    auto left = seconds == 0 ? std::chrono::nanoseconds(std::chrono::seconds(3600))
                             : std::chrono::nanoseconds(deadline - Clock::now());
    auto whole = std::chrono::duration_cast<std::chrono::seconds>(left);
    timespec wait{.tv_sec = whole.count(), .tv_nsec = (left - whole).count()};
    if (sigtimedwait(&signals, nullptr, &wait) > 0) {
      break;
    }
  }
  g_stop = true;
  for (auto& thread : threads) {
    thread.join();
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  ::freeaddrinfo(address);

  std::vector<std::uint32_t> latencies;
  std::uint64_t body_bytes = 0;
  std::uint64_t connection_errors = 0;
  std::map<int, std::uint64_t> failed_statuses;
  for (const auto& tally : tallies) {
    latencies.insert(latencies.end(), tally.latencies_us.begin(), tally.latencies_us.end());
    body_bytes += tally.body_bytes;
    connection_errors += tally.connection_errors;
    for (auto [status, count] : tally.failed_statuses) {
      failed_statuses[status] += count;
    }
  }
  std::ranges::sort(latencies);
  std::uint64_t failures = connection_errors;
  for (auto [status, count] : failed_statuses) {
    failures += count;
    std::fprintf(stderr, "api_load_tool: %llu answers with status %d\n",
                 static_cast<unsigned long long>(count), status);
  }
  if (connection_errors > 0) {
    std::fprintf(stderr, "api_load_tool: %llu connection errors (no whole answer)\n",
                 static_cast<unsigned long long>(connection_errors));
  }
  std::uint64_t requests = latencies.size() + failures;
  std::printf(
      "requests %llu failures %llu rps %.1f p50 %.2f p90 %.2f p99 %.2f max %.2f bytes %llu\n",
      static_cast<unsigned long long>(requests), static_cast<unsigned long long>(failures),
      static_cast<double>(requests) / elapsed, percentile_ms(latencies, 0.50),
      percentile_ms(latencies, 0.90), percentile_ms(latencies, 0.99),
      latencies.empty() ? 0.0 : latencies.back() / 1000.0,
      static_cast<unsigned long long>(latencies.empty() ? 0 : body_bytes / latencies.size()));
  return 0;
}
