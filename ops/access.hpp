// Keys (who may use the server) and access (which keys may use an app).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/keys.hpp"

namespace slipway::ops {

Expected<std::vector<SshKey>> list_keys(const Context& context);

struct AddKey {
  std::string name;
  std::string public_key; // one line: TYPE BASE64 [COMMENT]
  bool admin = false;
  std::string email; // empty: NAME@DOMAIN
};
Expected<SshKey> add_key(const Context& context, const AddKey& request);

// The key, its line of authorized_keys and its access to every app.
Expected<void> remove_key(const Context& context, const std::string& name);

struct AppAccess {
  std::vector<std::string> admins;        // admin keys, which may use every app
  std::vector<std::string> collaborators; // the keys the app names
};
Expected<AppAccess> app_access(const Context& context, const std::string& app);

struct AccessChange {
  std::string app;
  std::string key; // a key's name, or its email (keys:add --email, else NAME@DOMAIN)
};
// Both return the key's name (the request may name it by its email).
Expected<std::string> grant_access(const Context& context, const AccessChange& request);
Expected<std::string> revoke_access(const Context& context, const AccessChange& request);

} // namespace slipway::ops
