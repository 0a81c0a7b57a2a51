// The git hooks: `slipway hook pre-receive` deploys the deploy branch before git updates
// any ref, so a push is accepted only if its release went live; `slipway hook
// post-receive` starts housekeeping detached, after the refs are in.
#pragma once

#include <string_view>

#include "common/config.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// Returns the hook's exit status: non-zero makes git decline the whole push.
int run_pre_receive(const Layout& layout, const Config& config, std::string_view input);

int run_post_receive(const Layout& layout, const Config& config, std::string_view input);

} // namespace slipway
