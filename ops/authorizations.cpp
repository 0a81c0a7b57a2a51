#include "ops/authorizations.hpp"

#include <algorithm>

#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/keys.hpp"

namespace slipway::ops {

namespace {

bool may_manage(const Context& context, const Authorization& authorization) {
  return context.actor.admin || authorization.key == context.actor.name;
}

} // namespace

Expected<NewAuthorization> create_authorization(const Context& context,
                                                const CreateAuthorization& request) {
  TRY(authorize(context, "authorizations:create"));
  std::string key = request.key;
  if (context.actor.local) {
    if (key.empty()) {
      return usage_error("name the key the token acts as: --key NAME (see `slipway keys`)");
    }
  } else if (key.empty()) {
    key = context.actor.name;
  } else if (key != context.actor.name) {
    return fail("{} may make tokens for itself only, not for key '{}'", context.actor.describe(),
                key.substr(0, 64));
  }
  TRY(validate_key_name(key));
  auto made = TRY(
      slipway::create_authorization(context.layout, key, request.description, request.expires_in));
  record(context, {.resource = "authorization",
                   .action = "created",
                   .data = {{"id", made.authorization.id},
                            {"key", key},
                            {"description", made.authorization.description},
                            {"message", fmt::format("Created an API token for key {}", key)}}});
  return made;
}

Expected<std::vector<Authorization>> list_authorizations(const Context& context) {
  TRY(authorize(context, "authorizations"));
  auto all = TRY(slipway::list_authorizations(context.layout));
  std::erase_if(
      all, [&](const Authorization& authorization) { return !may_manage(context, authorization); });
  return all;
}

Expected<Authorization> revoke_authorization(const Context& context, const std::string& id) {
  TRY(authorize(context, "authorizations:revoke"));
  auto all = TRY(slipway::list_authorizations(context.layout));
  auto found = std::ranges::find(all, id, &Authorization::id);
  // Another key's token is "not found" to a collaborator: ids of others' tokens are not told.
  if (found == all.end() || !may_manage(context, *found)) {
    return fail_as(ErrorKind::not_found, "no authorization has the id '{}'", id.substr(0, 64));
  }
  auto revoked = TRY(slipway::revoke_authorization(context.layout, id));
  record(context,
         {.resource = "authorization",
          .action = "revoked",
          .data = {{"id", revoked.id},
                   {"key", revoked.key},
                   {"message", fmt::format("Revoked an API token of key {}", revoked.key)}}});
  return revoked;
}

Expected<Context> token_context(const Layout& layout, const Config& config,
                                const std::vector<Authorization>& authorizations,
                                std::string_view token, TokenUse use) {
  auto authorization = match_token(authorizations, token, std::chrono::system_clock::now(), use);
  if (!authorization) {
    return fail("{}", k_invalid_credentials);
  }
  auto key = find_key(layout, authorization->key);
  if (!key) {
    return fail("{}", k_invalid_credentials);
  }
  return Context{
      .layout = layout, .config = config, .actor = {.name = key->name, .admin = key->admin}};
}

Expected<NewAuthorization> sign_in(const Layout& layout, const Config& config,
                                   std::string_view token) {
  auto authorizations = TRY(slipway::list_authorizations(layout));
  auto authorization = match_token(authorizations, token, std::chrono::system_clock::now());
  auto context = token_context(layout, config, authorizations, token);
  if (!authorization || !context) {
    return fail("{}", k_invalid_credentials);
  }
  auto made = TRY(create_session(layout, *authorization));
  record(*context, {.resource = "authorization",
                    .action = "created",
                    .data = {{"id", made.authorization.id},
                             {"key", made.authorization.key},
                             {"description", made.authorization.description},
                             {"message", fmt::format("Signed in to the dashboard as key {}",
                                                     made.authorization.key)}}});
  return made;
}

Expected<void> sign_out(const Layout& layout, const Config& config, std::string_view session) {
  auto authorizations = TRY(slipway::list_authorizations(layout));
  auto now = std::chrono::system_clock::now();
  auto found = match_token(authorizations, session, now, TokenUse::session);
  auto context = token_context(layout, config, authorizations, session, TokenUse::session);
  if (!found || !context) {
    return {};
  }
  auto revoked = slipway::revoke_authorization(layout, found->id);
  if (!revoked && revoked.error().kind != ErrorKind::not_found) {
    return std::unexpected(revoked.error());
  }
  record(*context,
         {.resource = "authorization",
          .action = "revoked",
          .data = {{"id", found->id},
                   {"key", found->key},
                   {"message", fmt::format("Signed out of the dashboard as key {}", found->key)}}});
  return {};
}

} // namespace slipway::ops
