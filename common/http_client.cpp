#include "common/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>

#include <fmt/format.h>

// The plain declarations: curl's type-checking macros would hide the functions the lazy
// loader defines.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
// curl.h also wraps these two in macros that forward to themselves.
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include "common/lazy_library.hpp"

namespace slipway::http {

namespace libcurl {
inline const LazyLibrary library{SLIPWAY_LIBCURL_SONAME};
SLIPWAY_LAZY_FUNCTION(library, curl_easy_cleanup)
SLIPWAY_LAZY_FUNCTION(library, curl_easy_getinfo)
SLIPWAY_LAZY_FUNCTION(library, curl_easy_init)
SLIPWAY_LAZY_FUNCTION(library, curl_easy_perform)
SLIPWAY_LAZY_FUNCTION(library, curl_easy_setopt)
SLIPWAY_LAZY_FUNCTION(library, curl_easy_strerror)
SLIPWAY_LAZY_FUNCTION(library, curl_global_init)
SLIPWAY_LAZY_FUNCTION(library, curl_slist_append)
SLIPWAY_LAZY_FUNCTION(library, curl_slist_free_all)
} // namespace libcurl

namespace {

struct Kept {
  std::string* body;
  std::size_t limit;
};

std::size_t keep_body(char* data, std::size_t size, std::size_t count, void* out) {
  auto* kept = static_cast<Kept*>(out);
  std::size_t bytes = size * count;
  if (kept->body->size() < kept->limit) {
    kept->body->append(data, std::min(bytes, kept->limit - kept->body->size()));
  }
  return bytes;
}

std::size_t keep_header(char* data, std::size_t size, std::size_t count, void* out) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(out);
  std::string_view line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string_view::npos && headers->size() < 100) {
    std::string name(line.substr(0, colon));
    std::ranges::transform(name, name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
      value.remove_suffix(1);
    }
    headers->emplace_back(std::move(name), std::string(value));
  }
  return size * count;
}

std::size_t read_file_body(char* buffer, std::size_t size, std::size_t count, void* in) {
  return std::fread(buffer, size, count, static_cast<std::FILE*>(in));
}

} // namespace

std::string percent_encoded(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string Response::header(std::string_view name) const {
  auto found = std::ranges::find(headers, name, &std::pair<std::string, std::string>::first);
  return found == headers.end() ? "" : found->second;
}

Expected<Response> send(const Request& request) {
  static std::once_flag once;
  std::call_once(once, [] { libcurl::curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, void (*)(CURL*)> curl(libcurl::curl_easy_init(),
                                              [](CURL* c) { libcurl::curl_easy_cleanup(c); });
  if (!curl) {
    return fail("cannot start an HTTP request (libcurl)");
  }
  curl_slist* raw_headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    raw_headers = libcurl::curl_slist_append(raw_headers, (name + ": " + value).c_str());
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(
      raw_headers, [](curl_slist* list) { libcurl::curl_slist_free_all(list); });
  Response response;
  CURL* handle = curl.get();
  libcurl::curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  libcurl::curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  libcurl::curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  libcurl::curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  libcurl::curl_easy_setopt(handle, CURLOPT_USERAGENT, "slipway");
  libcurl::curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                            static_cast<long>(request.connect_timeout.count()));
  libcurl::curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  libcurl::curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") {
    libcurl::curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, &std::fclose);
  if (!request.unix_socket.empty()) {
    libcurl::curl_easy_setopt(handle, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
  }
  if (!request.body_file.empty()) {
    file.reset(std::fopen(request.body_file.c_str(), "rbe"));
    if (!file) {
      return fail("cannot read '{}': {}", request.body_file.string(), errno_text(errno));
    }
    std::error_code ec;
    auto size = std::filesystem::file_size(request.body_file, ec);
    libcurl::curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    libcurl::curl_easy_setopt(handle, CURLOPT_READFUNCTION, read_file_body);
    libcurl::curl_easy_setopt(handle, CURLOPT_READDATA, file.get());
    libcurl::curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  } else if (!request.body.empty() || request.method == "POST") {
    libcurl::curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    libcurl::curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE,
                              static_cast<long>(request.body.size()));
  }
  libcurl::curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  libcurl::curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, keep_body);
  Kept kept{&response.body, request.body_limit};
  libcurl::curl_easy_setopt(handle, CURLOPT_WRITEDATA, &kept);
  libcurl::curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, keep_header);
  libcurl::curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response.headers);
  CURLcode code = libcurl::curl_easy_perform(handle);
  if (code != CURLE_OK) {
    return fail("{} {}: {}", request.method, request.url, libcurl::curl_easy_strerror(code));
  }
  libcurl::curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

} // namespace slipway::http
