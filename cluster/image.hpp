// A release as an OCI image, written straight from its slug: the stack's base layer (its root
// filesystem, made once per stack and kept), a small launcher layer (`/start TYPE` and the
// release's process types) and the slug at /app. Config vars are not in it: whoever runs
// the image gives them (a Swarm secret, a Kubernetes Secret). The image is `APP:vN`.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/oci.hpp"
#include "common/error.hpp"
#include "runtime/layout.hpp"
#include "runtime/release.hpp"

namespace slipway::cluster {

// The uid and gid an image's processes run as, and that own /app (Heroku's dynos run as an
// unprivileged user too).
inline constexpr int k_image_uid = 10000;

// The Debian packages of a stack's root filesystem beyond debootstrap's minimal base: what
// the built-in buildpacks' slugs run with.
inline const std::vector<std::string> k_stack_packages = {"ca-certificates", "python3",
                                                          "python3-venv", "curl"};

struct StackBase {
  std::string stack;
  Layer layer;
};

// Where stack `stack`'s base layer is kept: ROOT/images/stacks/STACK/.
std::filesystem::path stack_dir(const Layout& layout, const std::string& stack);

// The base layer of `stack`, made before by make_stack_base; an error that says how to make it.
Expected<StackBase> find_stack_base(const Layout& layout, const std::string& stack);

struct MakeStack {
  std::string stack;
  std::filesystem::path rootfs;      // a root filesystem to pack as it is; empty: debootstrap
  std::vector<std::string> packages; // debootstrap's --include (k_stack_packages when empty)
  std::string mirror = "http://deb.debian.org/debian";
  std::string suite = "bookworm";
  std::function<void(std::string_view)> on_output = [](std::string_view) {};
};
// Makes (again) the base layer of a stack: debootstrap --variant=minbase into a scratch
// directory (as root), packed as one layer and kept; the directory is removed.
Expected<StackBase> make_stack_base(const Layout& layout, const MakeStack& request);

struct Image {
  std::string ref; // "APP:vN"
  Blob manifest;
  Blob config;
  std::vector<Layer> layers; // base, launcher, slug
};

// Writes `release` of `app` (which has a slug) into the OCI layout `dir` as `APP:vN`.
Expected<Image> write_release_image(const Layout& layout, const std::string& app,
                                    const Release& release, const std::filesystem::path& dir);

// What /start does in an image: `/start TYPE` runs the process type's command, anything else
// runs as a command line; both after .profile.d, in /app, with PORT (default 5000).
extern const std::string_view k_start_script;

} // namespace slipway::cluster
