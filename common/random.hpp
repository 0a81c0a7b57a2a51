// Random and name-derived identifiers: secrets and tokens from getrandom, and the UUIDs the
// Platform API names resources by (random ones kept on disk, and ones derived from such a UUID
// and a name, so that a release or a domain has a stable id without a record of its own).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace slipway {

// `bytes` random bytes from the kernel's CSPRNG, as 2 * bytes lowercase hex digits.
Expected<std::string> random_hex(std::size_t bytes);

// A random (version 4) UUID: "2f1c...-....-4...-[89ab]...-............".
Expected<std::string> random_uuid();

// A UUID derived from `base` (another UUID) and `name` by SHA-256, marked version 8 (RFC 9562's
// custom version): the same inputs give the same id, on every server and every run.
std::string derived_uuid(std::string_view base, std::string_view name);

// Whether `text` has a UUID's form: 8-4-4-4-12 hex digits (either case).
bool is_uuid(std::string_view text);

} // namespace slipway
