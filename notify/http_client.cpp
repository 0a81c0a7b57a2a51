#include "notify/http_client.hpp"

#include <memory>
#include <mutex>

// The plain declarations: curl's type-checking macros would hide the functions the lazy
// loader defines.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
// curl.h also wraps these two in macros that forward to themselves.
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include "common/lazy_library.hpp"

namespace slipway::notify {

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

constexpr std::size_t k_kept_body = 4096;

std::size_t keep_body(char* data, std::size_t size, std::size_t count, void* out) {
  auto& body = *static_cast<std::string*>(out);
  std::size_t bytes = size * count;
  if (body.size() < k_kept_body) {
    body.append(data, std::min(bytes, k_kept_body - body.size()));
  }
  return bytes;
}

} // namespace

Expected<HttpResponse> send(const HttpRequest& request) {
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
  HttpResponse response;
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
  if (!request.body.empty() || request.method == "POST") {
    libcurl::curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    libcurl::curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE,
                              static_cast<long>(request.body.size()));
  }
  libcurl::curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  libcurl::curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, keep_body);
  libcurl::curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
  CURLcode code = libcurl::curl_easy_perform(handle);
  if (code != CURLE_OK) {
    return fail("{} {}: {}", request.method, request.url, libcurl::curl_easy_strerror(code));
  }
  libcurl::curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

} // namespace slipway::notify
