// Pushing an OCI image to a registry over the Registry HTTP API v2 (the distribution spec):
// each blob the registry lacks is uploaded (monolithic: POST for an upload URL, then PUT with
// the digest), then the manifest is put under its tag. Debian's docker-registry serves one for
// tests and small clusters. No credentials yet: a registry on the cluster's own network.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "cluster/image.hpp"
#include "common/error.hpp"

namespace slipway::cluster {

struct PushImage {
  std::filesystem::path layout; // where write_release_image wrote `image`
  Image image;
  std::string registry;   // "http://HOST:PORT" or "HOST:PORT" (https)
  std::string repository; // the app's name
  std::string tag;        // "vN"
  std::function<void(std::string_view)> on_output = [](std::string_view) {};
};

// The registry's base URL for `registry` ("HOST:PORT" is https; a scheme is kept), or why it
// is not one.
Expected<std::string> registry_url(std::string_view registry);

// Pushes the image; the manifest's digest as the registry names it.
Expected<std::string> push_image(const PushImage& request);

} // namespace slipway::cluster
