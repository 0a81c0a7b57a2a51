// Releases as OCI images and Kubernetes manifests (cluster/): a stack's base made once,
// a release's image exported to an OCI layout, and its manifests. Who may: the server's local
// user makes stacks and writes images to its disk (a path of the server's, so not over ssh);
// and pushes images (to a registry it names); anyone with access to an app may read its
// manifests, which hold no more than `config` shows.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "cluster/image.hpp"
#include "common/error.hpp"
#include "ops/context.hpp"

namespace slipway::ops {

Expected<cluster::StackBase> make_stack(const Context& context, const cluster::MakeStack& request);

struct ExportImage {
  std::string app;
  std::optional<int> version; // default: the live release
  std::filesystem::path dir;  // an OCI layout: new, empty, or one already
};
Expected<cluster::Image> export_image(const Context& context, const ExportImage& request);

struct PushImage {
  std::string app;
  std::optional<int> version; // default: the live release
  std::string registry;       // "HOST:PORT" (https) or "http://HOST:PORT"
};
struct PushedImage {
  cluster::Image image;
  std::string reference; // "HOST:PORT/APP:vN"
  std::string digest;    // the manifest's, as the registry names it
};
// Writes the release's image (in a scratch layout under ROOT/images/) and pushes it.
Expected<PushedImage> push_image(const Context& context, const PushImage& request);

struct K8sManifests {
  std::string app;
  std::optional<int> version; // default: the live release
  std::string registry;       // "HOST:PORT" the image is pulled from; empty: none
};
// The manifests as YAML (cluster/k8s.hpp).
Expected<std::string> k8s_manifests(const Context& context, const K8sManifests& request);

} // namespace slipway::ops
