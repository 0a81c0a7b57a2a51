// Where the server may send requests a user names (a git host to fetch from, a webhook's
// receiver): never into its own network unless the admin allows it, so that a collaborator
// cannot make the server probe its loopback, private or link-local addresses (a cloud's
// metadata service at 169.254.169.254).
#pragma once

#include <string_view>

#include "common/error.hpp"

namespace slipway {

// Resolves `host` and refuses it (forbidden) when any of its addresses is loopback, private,
// link-local, CGNAT, multicast or unspecified; `setting` names what allows it in the message
// ("[webhooks] allow_private").
Expected<void> refuse_private_host(std::string_view host, std::string_view setting);

} // namespace slipway
