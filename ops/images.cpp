#include "ops/images.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "cluster/k8s.hpp"
#include "cluster/registry.hpp"
#include "ops/rights.hpp"
#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"

namespace slipway::ops {

namespace fs = std::filesystem;

namespace {

// The release an image is made of: `version`, else the live one; it must have a slug.
Expected<Release> image_release(const Context& context, const std::string& app,
                                std::optional<int> version) {
  ReleaseStore store(context.layout, app);
  Release release;
  if (version) {
    release = TRY(store.get(*version));
  } else {
    auto live = TRY(store.live());
    if (!live) {
      return fail("'{}' has no release yet", app);
    }
    release = std::move(*live);
  }
  if (!release.has_slug()) {
    return fail("v{} of '{}' has no slug (a config change before the first build)", release.version,
                app);
  }
  return release;
}

} // namespace

Expected<cluster::StackBase> make_stack(const Context& context, const cluster::MakeStack& request) {
  TRY(authorize(context, "images:stack"));
  cluster::MakeStack made = request;
  made.on_output = context.on_output;
  return cluster::make_stack_base(context.layout, made);
}

Expected<cluster::Image> export_image(const Context& context, const ExportImage& request) {
  TRY(authorize(context, "images:export", request.app));
  auto release = TRY(image_release(context, request.app, request.version));
  std::error_code ec;
  if (fs::exists(request.dir, ec) && !fs::is_empty(request.dir, ec) &&
      !fs::exists(request.dir / "oci-layout", ec)) {
    return usage_error("'{}' is neither empty nor an OCI layout: name a new directory",
                       request.dir.string());
  }
  return cluster::write_release_image(context.layout, request.app, release, request.dir);
}

Expected<PushedImage> push_image(const Context& context, const PushImage& request) {
  TRY(authorize(context, "images:push", request.app));
  std::string base = TRY(cluster::registry_url(request.registry));
  auto release = TRY(image_release(context, request.app, request.version));
  fs::path scratch = context.layout.root() / "images" / "scratch" /
                     fmt::format("{}-v{}-{}", request.app, release.version, ::getpid());
  std::error_code ec;
  fs::remove_all(scratch, ec);
  auto image = cluster::write_release_image(context.layout, request.app, release, scratch);
  Expected<std::string> digest = fail("");
  if (image) {
    digest = cluster::push_image({.layout = scratch,
                                  .image = *image,
                                  .registry = request.registry,
                                  .repository = request.app,
                                  .tag = fmt::format("v{}", release.version),
                                  .on_output = context.on_output});
  }
  fs::remove_all(scratch, ec);
  if (!image) {
    return std::unexpected(image.error());
  }
  if (!digest) {
    return std::unexpected(digest.error());
  }
  std::string host = base.substr(base.find("://") + 3);
  return PushedImage{
      .image = *image, .reference = fmt::format("{}/{}", host, image->ref), .digest = *digest};
}

Expected<std::string> k8s_manifests(const Context& context, const K8sManifests& request) {
  TRY(authorize(context, "k8s:manifests", request.app));
  auto release = TRY(image_release(context, request.app, request.version));
  auto info = TRY(app_info(context.layout, request.app));
  if (!request.registry.empty() && !std::ranges::all_of(request.registry, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
               c == '/' || c == '_';
      })) {
    return usage_error("invalid registry '{}' (HOST[:PORT][/PATH])",
                       request.registry.substr(0, 100));
  }
  cluster::K8sRelease k8s{
      .app = request.app,
      .version = release.version,
      .image = fmt::format("{}{}:v{}", request.registry.empty() ? "" : request.registry + "/",
                           request.app, release.version),
      .process_types = release.process_types,
      .release_command = release.release_command,
      .config = release.config,
      .stop_grace =
          std::chrono::duration_cast<std::chrono::seconds>(context.config.runtime.stop_grace),
      .memory = context.config.runtime.memory};
  for (const auto& [type, count] : process_counts(info.formation, release.process_types)) {
    k8s.replicas[type] = count;
  }
  k8s.hosts.push_back(app_host(context.config, request.app));
  for (const auto& domain : info.domains) {
    k8s.hosts.push_back(domain);
  }
  return cluster::to_yaml(cluster::k8s_manifests(k8s));
}

} // namespace slipway::ops
