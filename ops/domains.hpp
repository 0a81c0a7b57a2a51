// The host names an app answers: its own APP.DOMAIN and the ones added with domains:add.
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"

namespace slipway::ops {

// APP.DOMAIN first, then the added ones in the order they were added.
Expected<std::vector<std::string>> list_domains(const Context& context, const std::string& app);

struct DomainChange {
  std::string app;
  std::string host; // in any case, with or without a trailing dot
};
// A host name or a wildcard (`*.example.com`) no other app added, not the server's domain
// nor under it (those belong to the app of that name); checked and added under one lock for
// every app's domains. Returns the name as kept: lowercase, without a trailing dot.
Expected<std::string> add_domain(const Context& context, const DomainChange& request);
// Returns the name removed, as add_domain returned it.
Expected<std::string> remove_domain(const Context& context, const DomainChange& request);

} // namespace slipway::ops
