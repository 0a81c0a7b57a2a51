#include "ops/access.hpp"

#include <algorithm>

#include "ops/rights.hpp"
#include "ops/settings.hpp"

namespace slipway::ops {

Expected<std::vector<SshKey>> list_keys(const Context& context) {
  TRY(authorize(context, "keys"));
  return slipway::list_keys(context.layout);
}

Expected<SshKey> add_key(const Context& context, const AddKey& request) {
  TRY(authorize(context, "keys:add"));
  constexpr std::size_t k_max_key = 64 * 1024;
  if (request.public_key.size() > k_max_key) {
    return usage_error("the public key is {} bytes; a key is at most a few KB",
                       request.public_key.size());
  }
  auto key = TRY(slipway::add_key(context.layout, context.config, request.name, request.public_key,
                                  request.admin, request.email));
  record(context, {.resource = "key",
                   .action = "added",
                   .data = {{"key", key.name},
                            {"admin", key.admin},
                            {"fingerprint", key.fingerprint},
                            {"message", fmt::format("Added key {}{}", key.name,
                                                    key.admin ? " (admin)" : "")}}});
  return key;
}

Expected<void> remove_key(const Context& context, const std::string& name) {
  TRY(authorize(context, "keys:remove"));
  TRY(slipway::remove_key(context.layout, context.config, name));
  record(context, {.resource = "key",
                   .action = "removed",
                   .data = {{"key", name}, {"message", "Removed key " + name}}});
  return {};
}

Expected<AppAccess> app_access(const Context& context, const std::string& app) {
  TRY(authorize(context, "access", app));
  auto info = TRY(app_info(context.layout, app));
  AppAccess out{.collaborators = info.access};
  for (const auto& key : slipway::list_keys(context.layout)) {
    if (key.admin) {
      out.admins.push_back(key.name);
    }
  }
  return out;
}

namespace {

// The key's name `named` stands for: an email is the key whose email it is.
Expected<std::string> key_name(const Context& context, const std::string& named) {
  if (named.find('@') == std::string::npos) {
    TRY(validate_key_name(named));
    return named;
  }
  TRY(validate_email(named));
  auto key = key_by_email(context.layout, context.config, named);
  if (!key) {
    return fail_as(ErrorKind::not_found, "no key has the email {}", named);
  }
  return key->name;
}

Expected<std::string> change_access(const Context& context, AccessChange request, bool granting) {
  TRY(authorize(context, granting ? "access:add" : "access:remove", request.app));
  request.key = TRY(key_name(context, request.key));
  if (granting) {
    TRY(find_key(context.layout, request.key));
  }
  TRY(change_settings(context, request.app, [&](AppInfo& info) -> Expected<Event> {
    bool present = std::ranges::find(info.access, request.key) != info.access.end();
    if (granting && present) {
      return fail_as(ErrorKind::conflict, "key '{}' has access to {} already", request.key,
                     request.app);
    }
    if (!granting && !present) {
      return fail_as(ErrorKind::not_found, "key '{}' has no access to {}", request.key,
                     request.app);
    }
    if (granting) {
      info.access.push_back(request.key);
    } else {
      std::erase(info.access, request.key);
    }
    return Event{.resource = "access",
                 .action = granting ? "granted" : "revoked",
                 .data = {{"key", request.key},
                          {"message", fmt::format("{} access for key {}",
                                                  granting ? "Granted" : "Revoked", request.key)}}};
  }));
  return request.key;
}

} // namespace

Expected<std::string> grant_access(const Context& context, const AccessChange& request) {
  return change_access(context, request, true);
}

Expected<std::string> revoke_access(const Context& context, const AccessChange& request) {
  return change_access(context, request, false);
}

} // namespace slipway::ops
