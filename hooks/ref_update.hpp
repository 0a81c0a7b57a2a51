// What git's receive-pack feeds a pre-receive or post-receive hook on stdin: one
// "OLD NEW REFNAME" line per updated ref.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace slipway {

struct RefUpdate {
  std::string old_id; // all zeros: the ref is being created
  std::string new_id; // all zeros: the ref is being deleted
  std::string ref;    // "refs/heads/main"

  bool is_deletion() const;
  bool is_creation() const;
};

// Every line must be two object ids (40 or 64 lowercase hex digits) and a ref name under
// refs/; anything else is an error naming the line.
Expected<std::vector<RefUpdate>> parse_ref_updates(std::string_view input);

// "main" for "refs/heads/main", "tag v1" for "refs/tags/v1", else the ref itself.
std::string describe_ref(std::string_view ref);

} // namespace slipway
