#include "api/platform.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <thread>

#include <boost/beast/core/detail/base64.hpp>
#include <fmt/format.h>

#include "api/dashboard.hpp"
#include "api/endpoints.hpp"
#include "api/routing.hpp"
#include "common/files.hpp"
#include "common/hash.hpp"
#include "common/random.hpp"
#include "common/time.hpp"
#include "ops/authorizations.hpp"

namespace slipway::api {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// The server's secret for signed URLs: made once, kept in ROOT/keys/api-secret (0600).
Expected<std::string> url_secret(const Layout& layout) {
  fs::path file = layout.keys_file().parent_path() / "api-secret";
  if (auto text = read_file(file); text && text->size() >= 64) {
    return text->substr(0, 64);
  }
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  auto secret = TRY(random_hex(32));
  TRY(write_file_atomic(file, secret, 0600));
  return secret;
}

// The authorizations, read again only when their file changed.
class TokenCache {
 public:
  explicit TokenCache(Layout layout) : m_layout(std::move(layout)) {}

  Expected<std::vector<Authorization>> get() {
    struct stat info {};
    std::tuple<long, long, long, long> stamp{};
    if (::stat(m_layout.authorizations_file().c_str(), &info) == 0) {
      stamp = {static_cast<long>(info.st_ino), info.st_mtim.tv_sec, info.st_mtim.tv_nsec,
               static_cast<long>(info.st_size)};
    }
    std::lock_guard lock(m_mutex);
    if (!m_loaded || stamp != m_stamp) {
      m_authorizations = TRY(list_authorizations(m_layout));
      m_stamp = stamp;
      m_loaded = true;
    }
    return m_authorizations;
  }

 private:
  Layout m_layout;
  std::mutex m_mutex;
  bool m_loaded = false;
  std::tuple<long, long, long, long> m_stamp{};
  std::vector<Authorization> m_authorizations;
};

// Heroku's: `rate_limit` requests an hour per key, refilled continuously.
class RateLimiter {
 public:
  explicit RateLimiter(int per_hour) : m_capacity(per_hour) {}

  // Takes one request from the key's allowance; what remains, or nullopt when none did.
  std::optional<long> take(const std::string& key) {
    std::lock_guard lock(m_mutex);
    auto now = Clock::now();
    auto [bucket, added] = m_buckets.try_emplace(key, Bucket{double(m_capacity), now});
    double hours = std::chrono::duration<double, std::ratio<3600>>(now - bucket->second.at).count();
    bucket->second.tokens =
        std::min<double>(m_capacity, bucket->second.tokens + hours * m_capacity);
    bucket->second.at = now;
    if (bucket->second.tokens < 1) {
      return std::nullopt;
    }
    bucket->second.tokens -= 1;
    return static_cast<long>(bucket->second.tokens);
  }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  int m_capacity;
  std::mutex m_mutex;
  std::map<std::string, Bucket> m_buckets;
};

// The token of an Authorization header: "Bearer TOKEN", or "Basic base64(USER:TOKEN)" (the
// heroku CLI's netrc form). Empty when there is none.
std::string bearer_token(std::string_view header) {
  if (header.starts_with("Bearer ")) {
    return std::string(header.substr(7));
  }
  if (header.starts_with("Basic ")) {
    std::string_view encoded = header.substr(6);
    if (encoded.size() > 1024) {
      return "";
    }
    std::string decoded(boost::beast::detail::base64::decoded_size(encoded.size()), '\0');
    auto [written, read] =
        boost::beast::detail::base64::decode(decoded.data(), encoded.data(), encoded.size());
    decoded.resize(written);
    auto colon = decoded.find(':');
    return colon == std::string::npos ? "" : decoded.substr(colon + 1);
  }
  return "";
}

// A path or other client-given text as it may appear in a log line: printable ASCII only,
// at most 200 characters.
std::string loggable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    out.push_back(c > ' ' && c < 127 ? c : '?');
  }
  return text.size() > 200 ? out + "..." : out;
}

Response error_for(const Error& error) {
  switch (error.kind) {
  case ErrorKind::usage:
    return error_response(http::status::unprocessable_entity, "invalid_params", error.message);
  case ErrorKind::forbidden:
    return error_response(http::status::forbidden, "forbidden", error.message);
  case ErrorKind::not_found:
    return error_response(http::status::not_found, "not_found", error.message);
  case ErrorKind::conflict:
    return error_response(http::status::conflict, "conflict", error.message);
  case ErrorKind::unavailable:
    return error_response(http::status::service_unavailable, "unavailable", error.message);
  case ErrorKind::failed:
    break;
  }
  return error_response(http::status::unprocessable_entity, "failed", error.message);
}

} // namespace

struct Platform::State {
  Layout layout;
  Config config;
  std::function<void(std::string_view)> log;
  TokenCache tokens;
  RateLimiter limiter;
  UrlSigner signer;
  std::vector<Route> routes;

  State(const Layout& layout, const Config& config, std::function<void(std::string_view)> log,
        std::string secret)
      : layout(layout), config(config), log(std::move(log)), tokens(layout),
        limiter(config.api.rate_limit), signer(std::move(secret)) {
    add_account_routes(routes);
    add_app_routes(routes);
    add_release_routes(routes);
    add_process_routes(routes);
    add_pipeline_routes(routes);
    add_test_run_routes(routes);
    add_review_app_routes(routes);
    add_webhook_routes(routes);
    add_dashboard_routes(routes);
  }

  Response handle(const Request& request, const std::string& peer, std::string& actor);
};

Platform::Platform(const Layout& layout, const Config& config,
                   std::function<void(std::string_view)> log) {
  auto secret = url_secret(layout);
  if (!secret) {
    log(fmt::format("warning: {}: signed URLs last until the daemon restarts",
                    secret.error().message));
    secret = random_hex(32).value_or(std::string(64, '0'));
  }
  m_state = std::make_unique<State>(layout, config, std::move(log), std::move(*secret));
}

Platform::~Platform() = default;

Response Platform::handle(const Request& request, const std::string& peer) {
  auto started = Clock::now();
  std::string actor = "-";
  Response response = m_state->handle(request, peer, actor);
  auto request_id = random_uuid().value_or("");
  response.headers.emplace_back("Request-Id", request_id);
  long ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  // A signed URL's signature is a credential too: it is not logged.
  std::string_view target = to_std(request.target());
  target = target.substr(0, target.find("&sig="));
  m_state->log(fmt::format("{} {} {} {} {}ms from {} request {}", actor,
                           loggable(to_std(request.method_string())), loggable(target),
                           static_cast<int>(response.status), ms, peer, request_id));
  return response;
}

Response Platform::State::handle(const Request& request, const std::string& peer,
                                 std::string& actor) {
  std::string_view target = to_std(request.target());
  std::string_view path = target.substr(0, target.find('?'));
  auto segments = path_segments(path);
  if (!segments) {
    return error_response(http::status::bad_request, "bad_request", "The path is malformed.");
  }
  if (path.starts_with("/hooks/") || path.starts_with("/chat/")) {
    // Unauthenticated, so limited by the address asking rather than a key.
    std::string from = peer.substr(0, peer.rfind(':'));
    if (!limiter.take("hooks from " + from)) {
      return error_response(http::status::too_many_requests, "rate_limit",
                            "Too many deliveries from this address; try again later.");
    }
    if (auto response = git_host_webhook(layout, config, request)) {
      actor = "webhook";
      return std::move(*response);
    }
    if (auto response = chat_command(layout, config, request)) {
      actor = "chat";
      return std::move(*response);
    }
  }
  std::string session;
  if (request[http::field::authorization].empty()) {
    session = session_cookie(request);
  }
  auto session_context = [&]() -> Expected<ops::Context> {
    auto authorizations = tokens.get();
    if (session.empty() || !authorizations) {
      return fail("{}", ops::k_invalid_credentials);
    }
    return ops::token_context(layout, config, *authorizations, session, TokenUse::session);
  };
  if (path == "/dashboard/session" && request.method() == http::verb::post &&
      !limiter.take("sign-in from " + peer.substr(0, peer.rfind(':')))) {
    return error_response(http::status::too_many_requests, "rate_limit",
                          "Too many sign-ins from this address; try again later.");
  }
  if (auto front = dashboard_front({layout, config, signer, session_context}, request)) {
    actor = "dashboard";
    return std::move(*front);
  }
  const Route* route = nullptr;
  std::vector<std::string> params;
  bool path_known = false;
  for (const auto& candidate : routes) {
    if (auto matched = match(candidate.pattern, *segments)) {
      path_known = true;
      if (candidate.method == request.method()) {
        route = &candidate;
        params = std::move(*matched);
        break;
      }
    }
  }
  if (!route) {
    return path_known ? error_response(http::status::method_not_allowed, "method_not_allowed",
                                       "That method is not allowed on this resource.")
                      : error_response(http::status::not_found, "not_found",
                                       "The requested API endpoint was not found. Are you using "
                                       "the right HTTP verb (GET, POST, PATCH, DELETE)?");
  }
  std::string_view accept = to_std(request[http::field::accept]);
  if (accept.starts_with("application/vnd.heroku+json") &&
      accept.find("version=3") == std::string_view::npos) {
    return error_response(http::status::bad_request, "bad_request",
                          "This server speaks version 3 of the Platform API (Accept: "
                          "application/vnd.heroku+json; version=3).");
  }
  Expected<ops::Context> context = fail("");
  if (route->signed_url) {
    auto key = query_value(target, "key");
    if (!signer.verify(target) || !key) {
      return error_response(http::status::unauthorized, "unauthorized",
                            "This URL's signature is invalid or has expired.");
    }
    context = ops::open_context(layout, *key, {});
  } else if (!session.empty()) {
    context = session_context();
    bool reads = request.method() == http::verb::get || request.method() == http::verb::head;
    if (context && !reads) {
      if (auto checked = check_write(request, signer, session); !checked) {
        actor = context->actor.name;
        return error_response(http::status::forbidden, "forbidden", checked.error().message);
      }
    }
  } else {
    std::string token = bearer_token(to_std(request[http::field::authorization]));
    auto authorizations = tokens.get();
    if (!authorizations) {
      log(fmt::format("api: {}", authorizations.error().message));
      return error_response(http::status::service_unavailable, "unavailable",
                            "The server cannot read its tokens.");
    }
    context = token.empty() ? fail("{}", ops::k_invalid_credentials)
                            : ops::token_context(layout, config, *authorizations, token);
  }
  if (!context) {
    return error_response(http::status::unauthorized, "unauthorized",
                          std::string(ops::k_invalid_credentials));
  }
  actor = context->actor.name;
  context->wait = true;
  auto remaining = limiter.take(actor);
  if (!remaining) {
    auto refused = error_response(http::status::too_many_requests, "rate_limit",
                                  "Your account reached the API rate limit\nPlease wait a few "
                                  "minutes before making new requests");
    refused.headers.emplace_back("RateLimit-Remaining", "0");
    return refused;
  }
  std::string host(request[http::field::host]);
  bool host_ok = !host.empty() && host.size() < 256 && std::ranges::all_of(host, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
  Call call{request,
            *context,
            std::move(params),
            signer,
            "http://" + (host_ok ? host : config.api.listen),
            session.empty() ? "" : csrf_token(signer, session)};
  auto result = route->endpoint(call);
  Response response = result ? std::move(*result) : error_for(result.error());
  response.headers.emplace_back("RateLimit-Remaining", std::to_string(*remaining));
  return response;
}

Response follow_text(std::function<bool()> running, std::function<Expected<std::string>()> read) {
  Response response{.content_type = "text/plain; charset=utf-8"};
  response.stream = [running = std::move(running), read = std::move(read)](
                        const StreamWriter& write, const std::atomic<bool>& stop) {
    std::uint64_t offset = 0;
    while (true) {
      bool more = running(); // before the read: then the last read has all of it
      auto text = read();
      if (!text) {
        return;
      }
      if (text->size() > offset && !write(std::string_view(*text).substr(offset))) {
        return;
      }
      offset = std::max<std::uint64_t>(offset, text->size());
      if (!more || stop) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  };
  return response;
}

Response json_response(const nlohmann::json& body, http::status status) {
  return {.status = status, .body = body.dump() + "\n"};
}

Expected<nlohmann::json> Call::body() const {
  const std::string& text = request.body();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return nlohmann::json::object();
  }
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    return usage_error("the request's body is not valid JSON");
  }
  if (!parsed.is_object()) {
    return usage_error("the request's body must be a JSON object");
  }
  return parsed;
}

Expected<Range> Call::range(std::span<const std::string_view> fields) const {
  return parse_range(to_std(request[http::field::range]), fields);
}

std::optional<std::string> Call::query(std::string_view name) const {
  return query_value(to_std(request.target()), name);
}

Expected<std::optional<std::string>> string_member(const nlohmann::json& body,
                                                   std::string_view name) {
  auto found = body.find(name);
  if (found == body.end() || found->is_null()) {
    return std::nullopt;
  }
  if (!found->is_string()) {
    return usage_error("'{}' must be a string", name);
  }
  return found->get<std::string>();
}

std::string UrlSigner::sign(std::string_view path_and_query, std::chrono::seconds valid_for) const {
  auto expires = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch() + valid_for)
                     .count();
  std::string unsigned_url =
      fmt::format("{}{}expires={}", path_and_query,
                  path_and_query.find('?') == std::string_view::npos ? "?" : "&", expires);
  return fmt::format("{}&sig={}", unsigned_url, hmac_sha256_hex(m_secret, unsigned_url));
}

std::string UrlSigner::tag(std::string_view text) const {
  return hmac_sha256_hex(m_secret, text);
}

bool UrlSigner::verify(std::string_view target) const {
  auto sig = target.rfind("&sig=");
  if (sig == std::string_view::npos) {
    return false;
  }
  std::string_view unsigned_url = target.substr(0, sig);
  if (!equal_in_constant_time(hmac_sha256_hex(m_secret, unsigned_url), target.substr(sig + 5))) {
    return false;
  }
  auto expires_at = unsigned_url.rfind("expires=");
  long long expires = 0;
  std::string_view digits = unsigned_url.substr(expires_at + 8);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expires);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return expires_at != std::string_view::npos && ec == std::errc() && expires > now;
}

DaemonService platform_service(const Layout& layout) {
  struct Running {
    std::unique_ptr<Platform> platform;
    std::unique_ptr<HttpServer> server;
  };
  auto running = std::make_shared<Running>();
  auto log = [](std::string_view line) {
    std::string text =
        fmt::format("{} slipway[api]: {}\n", format_time(std::chrono::system_clock::now()), line);
    std::fwrite(text.data(), 1, text.size(), stderr);
  };
  return DaemonService{
      .name = "the Platform API",
      .start = [layout, running, log](const Config& config) -> Expected<void> {
        std::error_code ec;
        fs::remove(layout.api_address_file(), ec);
        if (config.api.listen.empty()) {
          return {};
        }
        auto [address, port] = TRY(parse_listen_address(config.api.listen));
        running->platform = std::make_unique<Platform>(layout, config, log);
        running->server = std::make_unique<HttpServer>(
            ServerOptions{.address = address,
                          .port = port,
                          // Bound before the router starts: not its port, nor the apps'.
                          .reserved =
                              [server = config.server, runtime = config.runtime](int bound) {
                                return bound == server.http_port ||
                                       (bound >= runtime.port_min && bound <= runtime.port_max);
                              },
                          .max_connections = config.api.max_connections,
                          .log = log},
            [platform = running->platform.get()](const Request& request, const std::string& peer) {
              return platform->handle(request, peer);
            });
        int bound = TRY(running->server->start());
        TRY(write_file_atomic(layout.api_address_file(), fmt::format("{}:{}\n", address, bound)));
        log(fmt::format("the Platform API listens on http://{}:{}", address, bound));
        return {};
      },
      .stop =
          [layout, running] {
            if (running->server) {
              running->server->stop();
            }
            running->server.reset();
            running->platform.reset();
            std::error_code ec;
            fs::remove(layout.api_address_file(), ec);
          }};
}

} // namespace slipway::api
