// The git hooks: `slipway hook pre-receive` deploys the deploy branch before git updates
// any ref, so a push is accepted only if its release went live; `slipway hook
// post-receive` starts housekeeping detached, after the refs are in.
#pragma once

#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// Returns the hook's exit status: non-zero makes git decline the whole push.
int run_pre_receive(const Layout& layout, const Config& config, std::string_view input);

int run_post_receive(const Layout& layout, const Config& config, std::string_view input);

// What post-receive starts detached (`slipway housekeep -a APP`): settles what an
// interrupted operation left, prunes scratch dirs and unneeded slugs, and `git gc --auto`.
Expected<void> housekeep_after_push(const Layout& layout, const Config& config,
                                    const std::string& app);

} // namespace slipway
