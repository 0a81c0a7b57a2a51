#include "cluster/image.hpp"

#include <fmt/format.h>

#include "common/files.hpp"
#include "common/subprocess.hpp"
#include "common/time.hpp"
#include "compiler/compile.hpp"
#include "runtime/slug_store.hpp"

namespace slipway::cluster {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string_view k_start_script = R"sh(#!/bin/bash
# slipway's launcher: /start TYPE runs the release's TYPE process (/etc/slipway/process-types),
# anything else runs as a command line; both in /app after its .profile.d scripts.
set -e
cd /app
port="${PORT:-5000}"
# The release's config vars, when whoever runs the image gives them as this file (a Swarm
# secret): `export NAME='value'` lines. PORT stays the one the container was given.
if [ -r /run/secrets/slipway-config ]; then . /run/secrets/slipway-config; fi
export HOME=/app PORT="$port"
for f in /app/.profile.d/*.sh; do if [ -r "$f" ]; then . "$f"; fi; done
if [ "$#" -eq 1 ] && [[ "$1" =~ ^[A-Za-z0-9_-]+$ ]] && [ -f "/etc/slipway/process-types/$1" ]; then
  exec /bin/bash -c "$(cat "/etc/slipway/process-types/$1")"
fi
if [ "$#" -eq 0 ]; then
  echo "usage: /start TYPE | /start COMMAND [ARG...]" >&2
  exit 2
fi
exec /bin/bash -c "$*"
)sh";

namespace {

constexpr std::string_view k_layer_file = "layer.tar.gz";
constexpr std::string_view k_layer_record = "layer.json";

Expected<void> check_stack_name(const std::string& stack) {
  bool valid = !stack.empty() && stack.size() <= 64 && std::ranges::all_of(stack, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  }) && stack[0] != '.';
  if (!valid) {
    return usage_error("invalid stack name '{}'", stack.substr(0, 64));
  }
  return {};
}

// Copies a file into a layout's blob store under its digest (a hard link when it can).
Expected<void> add_blob_file(const fs::path& layout, const fs::path& file,
                             std::string_view digest) {
  fs::path target = blob_path(layout, digest);
  std::error_code ec;
  if (fs::exists(target, ec)) {
    return {};
  }
  fs::create_hard_link(file, target, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(file, target, ec);
  }
  if (ec) {
    return fail("cannot add '{}' to '{}': {}", file.string(), layout.string(), ec.message());
  }
  return {};
}

} // namespace

fs::path stack_dir(const Layout& layout, const std::string& stack) {
  return layout.root() / "images" / "stacks" / stack;
}

Expected<StackBase> find_stack_base(const Layout& layout, const std::string& stack) {
  TRY(check_stack_name(stack));
  fs::path dir = stack_dir(layout, stack);
  auto text = read_file(dir / k_layer_record);
  if (!text) {
    return fail("stack '{}' has no base image yet; make it once with `slipway images:stack "
                "{}` (debootstrap, as root)",
                stack, stack);
  }
  auto record = json::parse(*text, nullptr, false);
  if (!record.is_object() || !record["digest"].is_string() || !record["diff_id"].is_string() ||
      !record["size"].is_number_unsigned()) {
    return fail("'{}' is damaged; make the stack again with `slipway images:stack {}`",
                (dir / k_layer_record).string(), stack);
  }
  return StackBase{.stack = stack,
                   .layer = {.blob = {.media_type = std::string(k_layer_type),
                                      .digest = record["digest"],
                                      .size = record["size"]},
                             .diff_id = record["diff_id"]}};
}

Expected<StackBase> make_stack_base(const Layout& layout, const MakeStack& request) {
  TRY(check_stack_name(request.stack));
  fs::path dir = stack_dir(layout, request.stack);
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path rootfs = request.rootfs;
  fs::path scratch = dir / "rootfs.tmp";
  if (rootfs.empty()) {
    fs::remove_all(scratch, ec);
    std::vector<std::string> packages =
        request.packages.empty() ? k_stack_packages : request.packages;
    std::string include;
    for (const auto& package : packages) {
      include += (include.empty() ? "" : ",") + package;
    }
    request.on_output(fmt::format("Making stack {} with debootstrap {} ({})", request.stack,
                                  request.suite, include));
    auto made = run({.argv = {"debootstrap", "--variant=minbase", "--include=" + include,
                              request.suite, scratch.string(), request.mirror},
                     .on_line = [&](std::string_view line) { request.on_output(line); },
                     .timeout = std::chrono::minutes(30)});
    if (!made || !made->ok()) {
      fs::remove_all(scratch, ec);
      return fail("debootstrap could not make stack '{}'{}", request.stack,
                  made ? "" : ": " + made.error().message);
    }
    rootfs = scratch;
  }
  fs::path staging = dir / "staging";
  fs::remove_all(staging, ec);
  auto writer = TRY(LayerWriter::open(staging));
  TRY(writer.add_tree(rootfs));
  auto layer = TRY(writer.finish());
  fs::rename(blob_path(staging, layer.blob.digest), dir / k_layer_file, ec);
  if (ec) {
    return fail("cannot keep the stack's layer: {}", ec.message());
  }
  fs::remove_all(staging, ec);
  fs::remove_all(scratch, ec);
  json record{{"digest", layer.blob.digest},
              {"diff_id", layer.diff_id},
              {"size", layer.blob.size},
              {"created_at", format_time(std::chrono::system_clock::now())}};
  TRY(write_file_atomic(dir / k_layer_record, record.dump() + "\n"));
  return StackBase{.stack = request.stack, .layer = layer};
}

Expected<Image> write_release_image(const Layout& layout, const std::string& app,
                                    const Release& release, const fs::path& dir) {
  if (!release.has_slug()) {
    return fail("v{} of '{}' has no slug to make an image of", release.version, app);
  }
  std::string stack = release.stack.empty() ? std::string(k_stack) : release.stack;
  auto base = TRY(find_stack_base(layout, stack));
  TRY(init_layout(dir));
  TRY(add_blob_file(dir, stack_dir(layout, stack) / k_layer_file, base.layer.blob.digest));

  // Nothing of the release but what runs is in the image, and no time either: releases
  // that run the same slug with the same process types (a config change, a rollback) have
  // the same image, byte for byte, so a rollback runs the very image it names.
  constexpr std::int64_t created = 0;
  const std::string created_at = "1970-01-01T00:00:00Z";
  auto launcher = TRY(LayerWriter::open(dir));
  TRY(launcher.add_directory("etc", 0755, {}, created));
  TRY(launcher.add_directory("etc/slipway", 0755, {}, created));
  TRY(launcher.add_directory("etc/slipway/process-types", 0755, {}, created));
  for (const auto& [type, command] : release.process_types) {
    TRY(launcher.add_file("etc/slipway/process-types/" + type, 0644, {}, created, command));
  }
  if (!release.release_command.empty()) { // `/start release`: the release phase
    TRY(launcher.add_file("etc/slipway/process-types/release", 0644, {}, created,
                          release.release_command));
  }
  TRY(launcher.add_file("start", 0755, {}, created, k_start_script));
  auto launcher_layer = TRY(launcher.finish());

  auto slug = TRY(LayerWriter::open(dir));
  std::string sha256 = release.slug.substr(release.slug.find(':') + 1);
  TRY(slug.add_slug(SlugStore(layout).path(release), sha256, "app", {k_image_uid, k_image_uid}));
  auto slug_layer = TRY(slug.finish());

  Image image{.ref = fmt::format("{}:v{}", app, release.version),
              .layers = {base.layer, launcher_layer, slug_layer}};
  json diff_ids = json::array();
  json layers = json::array();
  for (const auto& layer : image.layers) {
    diff_ids.push_back(layer.diff_id);
    layers.push_back(layer.blob.descriptor());
  }
  json config{
      {"created", created_at},
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config",
       {{"User", fmt::format("{}:{}", k_image_uid, k_image_uid)},
        {"Env",
         {"PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/app",
          "PORT=5000", "STACK=" + stack}},
        {"Entrypoint", {"/start"}},
        {"Cmd", {"web"}},
        {"WorkingDir", "/app"},
        {"ExposedPorts", {{"5000/tcp", json::object()}}},
        {"Labels",
         {{"io.slipway.app", app},
          {"io.slipway.commit", release.commit},
          {"io.slipway.slug", release.slug}}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
      {"history",
       {{{"created", created_at}, {"created_by", "slipway stack " + stack}},
        {{"created", created_at}, {"created_by", "slipway launcher"}},
        {{"created", created_at}, {"created_by", fmt::format("slipway slug {}", release.slug)}}}}};
  image.config = TRY(write_blob(dir, k_config_type, config.dump()));
  json manifest{{"schemaVersion", 2},
                {"mediaType", k_manifest_type},
                {"config", image.config.descriptor()},
                {"layers", layers}};
  image.manifest = TRY(write_blob(dir, k_manifest_type, manifest.dump()));
  TRY(write_index(dir, image.manifest, image.ref));
  return image;
}

} // namespace slipway::cluster
