// Where slipway finds what ships with it.
#pragma once

#include <filesystem>

namespace slipway {

// The built-in buildpacks: $SLIPWAY_BUILDPACKS_DIR, else share/slipway/buildpacks beside
// the installed binary, else the source tree the binary was built from.
std::filesystem::path builtin_buildpacks_dir();

// The running binary (/proc/self/exe).
std::filesystem::path self_executable();

} // namespace slipway
