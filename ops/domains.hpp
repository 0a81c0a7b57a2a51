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
  std::string host;
};
// A host no other app answers, not the server's domain nor under it (those belong to the
// app of that name); checked and added under one lock for every app's domains.
Expected<void> add_domain(const Context& context, const DomainChange& request);
Expected<void> remove_domain(const Context& context, const DomainChange& request);

} // namespace slipway::ops
