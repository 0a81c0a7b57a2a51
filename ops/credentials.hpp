// Git-host credentials (runtime/credentials.hpp): added, listed and removed by an admin. A
// secret goes in once and never comes out: listing shows names, kinds and times, and the
// events say which credential changed, never its value.
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/credentials.hpp"

namespace slipway::ops {

struct AddCredential {
  std::string name;
  CredentialKind kind = CredentialKind::token;
  std::string secret;
};
Expected<Credential> add_credential(const Context& context, const AddCredential& request);

// Without their secrets.
Expected<std::vector<Credential>> list_credentials(const Context& context);

Expected<void> remove_credential(const Context& context, const std::string& name);

} // namespace slipway::ops
