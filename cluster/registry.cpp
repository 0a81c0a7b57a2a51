#include "cluster/registry.hpp"

#include <fmt/format.h>

#include "common/files.hpp"
#include "common/http_client.hpp"

namespace slipway::cluster {

namespace {

constexpr auto k_blob_timeout = std::chrono::minutes(30);

// An upload URL as the registry gave it (absolute, or a path of its own) with `digest` added.
std::string upload_url(const std::string& base, const std::string& location,
                       const std::string& digest) {
  std::string url = location.starts_with("http://") || location.starts_with("https://")
                        ? location
                        : base + location;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest;
}

std::string why(const http::Response& response) {
  return fmt::format("{} {}", response.status, response.body.substr(0, 300));
}

Expected<void> push_blob(const PushImage& request, const std::string& base, const Blob& blob) {
  std::string repository = base + "/v2/" + request.repository;
  auto present = TRY(http::send({.method = "HEAD", .url = repository + "/blobs/" + blob.digest}));
  if (present.status == 200) {
    request.on_output(fmt::format("{}: already there", blob.digest.substr(0, 19)));
    return {};
  }
  auto started = TRY(http::send({.method = "POST", .url = repository + "/blobs/uploads/"}));
  std::string location = started.header("location");
  if (started.status != 202 || location.empty()) {
    return fail("the registry did not start an upload: {}", why(started));
  }
  auto put = TRY(http::send({.method = "PUT",
                             .url = upload_url(base, location, blob.digest),
                             .headers = {{"Content-Type", "application/octet-stream"}},
                             .body_file = blob_path(request.layout, blob.digest),
                             .timeout = k_blob_timeout}));
  if (put.status != 201) {
    return fail("the registry refused blob {}: {}", blob.digest, why(put));
  }
  request.on_output(fmt::format("{}: pushed ({:.1f} MB)", blob.digest.substr(0, 19),
                                static_cast<double>(blob.size) / 1e6));
  return {};
}

} // namespace

Expected<std::string> registry_url(std::string_view registry) {
  std::string scheme = "https://";
  std::string_view host = registry;
  for (std::string_view given : {"http://", "https://"}) {
    if (host.starts_with(given)) {
      scheme = std::string(given);
      host.remove_prefix(given.size());
    }
  }
  while (host.ends_with('/')) {
    host.remove_suffix(1);
  }
  bool valid = !host.empty() && host.size() < 256 && std::ranges::all_of(host, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
  if (!valid) {
    return usage_error("invalid registry '{}' (HOST:PORT, or http://HOST:PORT for one without TLS)",
                       registry.substr(0, 100));
  }
  return scheme + std::string(host);
}

Expected<std::string> push_image(const PushImage& request) {
  std::string base = TRY(registry_url(request.registry));
  for (const auto& layer : request.image.layers) {
    TRY(push_blob(request, base, layer.blob));
  }
  TRY(push_blob(request, base, request.image.config));
  auto manifest = TRY(read_file(blob_path(request.layout, request.image.manifest.digest)));
  auto put = TRY(http::send(
      {.method = "PUT",
       .url = fmt::format("{}/v2/{}/manifests/{}", base, request.repository, request.tag),
       .headers = {{"Content-Type", std::string(k_manifest_type)}},
       .body = manifest}));
  if (put.status != 201) {
    return fail("the registry refused the manifest of {}:{}: {}", request.repository, request.tag,
                why(put));
  }
  std::string digest = put.header("docker-content-digest");
  return digest.empty() ? request.image.manifest.digest : digest;
}

} // namespace slipway::cluster
