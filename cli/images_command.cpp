// images:stack [STACK] [--rootfs DIR] [--package P]..., images:export -a APP [VERSION] --oci DIR,
// images:push -a APP [VERSION] --registry HOST:PORT, k8s:manifests -a APP [VERSION]
// [--registry HOST[:PORT]]
#include <cstdio>

#include "cli/cli.hpp"
#include "compiler/compile.hpp"
#include "ops/images.hpp"

namespace slipway::cli {

namespace {

struct ImagesArgs {
  std::string app;
  std::string version;
  std::string stack = std::string(k_stack);
  std::string rootfs;
  std::vector<std::string> packages;
  std::string mirror = "http://deb.debian.org/debian";
  std::string oci;
  std::string registry;
};

Expected<std::optional<int>> version_of(const ImagesArgs& args) {
  if (args.version.empty()) {
    return std::nullopt;
  }
  return TRY(parse_version(args.version));
}

Expected<void> stack(const Globals& globals, const ImagesArgs& args) {
  auto context = TRY(globals.context());
  context.on_output = [](std::string_view line) { print_line(fmt::format("       {}", line)); };
  auto made = TRY(ops::make_stack(context, {.stack = args.stack,
                                            .rootfs = args.rootfs,
                                            .packages = args.packages,
                                            .mirror = args.mirror}));
  print_line(fmt::format("-----> Stack {}: base layer {} ({:.1f} MB)", made.stack,
                         made.layer.blob.digest.substr(0, 19),
                         static_cast<double>(made.layer.blob.size) / 1e6));
  return {};
}

Expected<void> export_image(const Globals& globals, const ImagesArgs& args) {
  if (args.oci.empty()) {
    return usage_error("name the OCI layout to write: --oci DIR");
  }
  auto image =
      TRY(ops::export_image(TRY(globals.context()),
                            {.app = args.app, .version = TRY(version_of(args)), .dir = args.oci}));
  std::uint64_t size = image.config.size;
  for (const auto& layer : image.layers) {
    size += layer.blob.size;
  }
  print_line(fmt::format("-----> {} written to {} ({:.1f} MB, manifest {})", image.ref, args.oci,
                         static_cast<double>(size) / 1e6, image.manifest.digest));
  return {};
}

Expected<void> push(const Globals& globals, const ImagesArgs& args) {
  if (args.registry.empty()) {
    return usage_error("name the registry: --registry HOST:PORT (or http://HOST:PORT)");
  }
  auto context = TRY(globals.context());
  context.on_output = [](std::string_view line) { print_line(fmt::format("       {}", line)); };
  auto pushed = TRY(ops::push_image(
      context, {.app = args.app, .version = TRY(version_of(args)), .registry = args.registry}));
  print_line(fmt::format("-----> {} pushed ({})", pushed.reference, pushed.digest));
  return {};
}

Expected<void> manifests(const Globals& globals, const ImagesArgs& args) {
  auto yaml = TRY(ops::k8s_manifests(
      TRY(globals.context()),
      {.app = args.app, .version = TRY(version_of(args)), .registry = args.registry}));
  std::fwrite(yaml.data(), 1, yaml.size(), stdout);
  return {};
}

} // namespace

void add_images_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<ImagesArgs>();

  auto* stack_command =
      add_command(app, "images:stack",
                  "make a stack's base image layer (debootstrap, as root; once per stack)");
  stack_command->add_option("STACK", args->stack,
                            fmt::format("the stack's name (default: {})", k_stack));
  stack_command->add_option("--rootfs", args->rootfs, "pack this root filesystem instead");
  stack_command->add_option("--package", args->packages,
                            "a Debian package to include (default: what the buildpacks need)");
  stack_command->add_option("--mirror", args->mirror, "the Debian mirror debootstrap uses");
  stack_command->callback(choose(globals, action, args, stack));

  auto* export_command =
      add_command(app, "images:export", "write a release as an OCI image (APP:vN) to a directory");
  add_app_option(export_command, args->app);
  export_command->add_option("VERSION", args->version, "e.g. v3 (default: the live release)");
  export_command->add_option("--oci", args->oci, "the OCI layout to write")->required();
  export_command->callback(choose(globals, action, args, export_image));

  auto* push_command =
      add_command(app, "images:push", "push a release's OCI image (APP:vN) to a registry");
  add_app_option(push_command, args->app);
  push_command->add_option("VERSION", args->version, "e.g. v3 (default: the live release)");
  push_command->add_option("--registry", args->registry, "HOST:PORT, or http://HOST:PORT")
      ->required();
  push_command->callback(choose(globals, action, args, push));

  auto* k8s = add_command(app, "k8s:manifests",
                          "print a release's Kubernetes manifests (kubectl apply -f -)");
  add_app_option(k8s, args->app);
  k8s->add_option("VERSION", args->version, "e.g. v3 (default: the live release)");
  k8s->add_option("--registry", args->registry, "where the cluster pulls APP:vN from");
  k8s->callback(choose(globals, action, args, manifests));
}

} // namespace slipway::cli
