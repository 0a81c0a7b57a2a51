#include "ops/rights.hpp"

#include <algorithm>
#include <array>

#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"

namespace slipway::ops {

namespace {

constexpr std::array k_operations = {
    OperationInfo{"apps", Scope::listing, true},
    OperationInfo{"apps:create", Scope::admin, true},
    OperationInfo{"apps:info", Scope::app, true},
    OperationInfo{"apps:destroy", Scope::admin, true},
    OperationInfo{"apps:rename", Scope::admin, true},
    OperationInfo{"apps:set", Scope::admin, true},
    // Connecting binds the app's deploys to a repository elsewhere, fetched with the
    // server's credentials: an admin's.
    OperationInfo{"apps:connect", Scope::admin, true},
    OperationInfo{"apps:disconnect", Scope::admin, true},
    OperationInfo{"apps:connection", Scope::app, true},
    // Linking a chat user to a key hands it that key's rights: an admin's.
    OperationInfo{"chat:link", Scope::admin, true},
    OperationInfo{"chat:unlink", Scope::admin, true},
    OperationInfo{"chat:links", Scope::admin, true},
    OperationInfo{"chat:setup", Scope::admin, true},
    OperationInfo{"webhooks", Scope::app, true},
    OperationInfo{"webhooks:add", Scope::app, true},
    OperationInfo{"webhooks:info", Scope::app, true},
    OperationInfo{"webhooks:update", Scope::app, true},
    OperationInfo{"webhooks:remove", Scope::app, true},
    OperationInfo{"webhooks:deliveries", Scope::app, true},
    OperationInfo{"webhooks:deliveries:info", Scope::app, true},
    OperationInfo{"webhooks:events", Scope::app, true},
    OperationInfo{"deploy", Scope::admin, false}, // builds a directory of the server
    OperationInfo{"git-receive-pack", Scope::app, true},
    OperationInfo{"git-upload-pack", Scope::app, true},
    OperationInfo{"images:stack", Scope::admin, false},  // debootstrap, as the server's user
    OperationInfo{"images:export", Scope::app, false}, // writes a directory of the server
    OperationInfo{"images:push", Scope::app, false},   // the server reaches any registry named
    OperationInfo{"k8s:manifests", Scope::app, true},
    OperationInfo{"releases", Scope::app, true},
    OperationInfo{"releases:info", Scope::app, true},
    OperationInfo{"releases:output", Scope::app, true},
    OperationInfo{"rollback", Scope::app, true},
    OperationInfo{"config", Scope::app, true},
    OperationInfo{"config:get", Scope::app, true},
    OperationInfo{"config:set", Scope::app, true},
    OperationInfo{"config:unset", Scope::app, true},
    OperationInfo{"ps", Scope::app, true},
    OperationInfo{"ps:scale", Scope::app, true},
    OperationInfo{"ps:restart", Scope::app, true},
    OperationInfo{"ps:stop", Scope::app, true},
    OperationInfo{"ps:type", Scope::app, true},
    OperationInfo{"run", Scope::app, true},
    OperationInfo{"run:detached", Scope::app, true},
    OperationInfo{"logs", Scope::app, true},
    OperationInfo{"events", Scope::listing, true},
    OperationInfo{"domains", Scope::app, true},
    OperationInfo{"domains:add", Scope::app, true},
    OperationInfo{"domains:remove", Scope::app, true},
    OperationInfo{"maintenance", Scope::app, true},
    OperationInfo{"maintenance:on", Scope::app, true},
    OperationInfo{"maintenance:off", Scope::app, true},
    OperationInfo{"builds", Scope::app, true},
    OperationInfo{"builds:output", Scope::app, true},
    OperationInfo{"access", Scope::app, true},
    OperationInfo{"access:add", Scope::admin, true},
    OperationInfo{"access:remove", Scope::admin, true},
    OperationInfo{"keys", Scope::admin, true},
    OperationInfo{"keys:add", Scope::admin, true},
    OperationInfo{"keys:remove", Scope::admin, true},
    OperationInfo{"credentials", Scope::admin, true},
    OperationInfo{"credentials:add", Scope::admin, true},
    OperationInfo{"credentials:remove", Scope::admin, true},
    OperationInfo{"pipelines", Scope::listing, true},
    OperationInfo{"pipelines:create", Scope::admin, true},
    OperationInfo{"pipelines:add", Scope::app, true},
    OperationInfo{"pipelines:update", Scope::app, true},
    OperationInfo{"pipelines:remove", Scope::app, true},
    OperationInfo{"pipelines:info", Scope::listing, true},
    OperationInfo{"pipelines:rename", Scope::admin, true},
    OperationInfo{"pipelines:set", Scope::admin, true},
    OperationInfo{"pipelines:destroy", Scope::admin, true},
    OperationInfo{"pipelines:promote", Scope::app, true},
    OperationInfo{"pipelines:diff", Scope::app, true},
    OperationInfo{"reviewapps", Scope::listing, true},
    OperationInfo{"reviewapps:enable", Scope::admin, true},
    OperationInfo{"reviewapps:disable", Scope::admin, true},
    OperationInfo{"reviewapps:create", Scope::app, true},
    OperationInfo{"reviewapps:destroy", Scope::app, true},
    OperationInfo{"reviewapps:config", Scope::admin, true},
    OperationInfo{"reviewapps:sweep", Scope::admin, false},
    OperationInfo{"ci", Scope::listing, true},
    OperationInfo{"ci:info", Scope::listing, true},
    OperationInfo{"ci:run", Scope::app, true},
    OperationInfo{"ci:rerun", Scope::app, true},
    OperationInfo{"ci:output", Scope::listing, true},
    OperationInfo{"authorizations", Scope::listing, true},
    OperationInfo{"authorizations:create", Scope::listing, true},
    OperationInfo{"authorizations:revoke", Scope::listing, true},
};

// The Heroku CLI's names for the same commands.
constexpr std::array k_aliases = {
    CommandAlias{"create", "apps:create"},
    CommandAlias{"info", "apps:info"},
    CommandAlias{"destroy", "apps:destroy"},
    CommandAlias{"rename", "apps:rename"},
    CommandAlias{"releases:rollback", "rollback"},
    CommandAlias{"config:add", "config:set"},
    CommandAlias{"config:remove", "config:unset"},
    CommandAlias{"scale", "ps:scale"},
    CommandAlias{"restart", "ps:restart"},
    CommandAlias{"stop", "ps:stop"},
    CommandAlias{"kill", "ps:stop"},
    CommandAlias{"ps:kill", "ps:stop"},
    CommandAlias{"ps:resize", "ps:type"},
    CommandAlias{"dyno:scale", "ps:scale"},
    CommandAlias{"dyno:restart", "ps:restart"},
    CommandAlias{"dyno:stop", "ps:stop"},
    CommandAlias{"dyno:kill", "ps:stop"},
    CommandAlias{"dyno:type", "ps:type"},
    CommandAlias{"dyno:resize", "ps:type"},
    CommandAlias{"authorizations:destroy", "authorizations:revoke"},
};

} // namespace

std::span<const OperationInfo> operations() {
  return k_operations;
}

std::span<const CommandAlias> command_aliases() {
  return k_aliases;
}

std::string_view canonical_command(std::string_view name) {
  auto alias = std::ranges::find(k_aliases, name, &CommandAlias::alias);
  return alias == k_aliases.end() ? name : alias->command;
}

std::optional<OperationInfo> find_operation(std::string_view name) {
  auto found = std::ranges::find(k_operations, canonical_command(name), &OperationInfo::name);
  if (found == k_operations.end()) {
    return std::nullopt;
  }
  return *found;
}

bool may_access(const Context& context, const std::string& app) {
  if (context.actor.admin) {
    return true;
  }
  auto info = app_info(context.layout, app);
  return info && std::ranges::find(info->access, context.actor.name) != info->access.end();
}

bool may_reuse_build(const Context& context, const std::string& lender, const std::string& app) {
  if (!may_access(context, lender)) {
    return false;
  }
  auto from = app_info(context.layout, lender);
  auto to = app_info(context.layout, app);
  return from && to && std::ranges::all_of(from->access, [&](const std::string& key) {
           return std::ranges::find(to->access, key) != to->access.end();
         });
}

Expected<void> authorize(const Context& context, std::string_view operation,
                         const std::string& app) {
  auto info = find_operation(operation);
  if (!info) {
    return fail("'{}' is not an operation slipway knows", operation);
  }
  const Actor& actor = context.actor;
  if (!info->remote && !actor.local) {
    return fail_as(ErrorKind::forbidden,
                   "'{}' is for the server's local user only; {} cannot run it", operation,
                   actor.describe());
  }
  if (info->scope == Scope::admin && !actor.admin) {
    return fail_as(ErrorKind::forbidden, "'{}' needs an admin key; {} is a collaborator", operation,
                   actor.describe());
  }
  if (info->scope == Scope::app && app.empty()) {
    return usage_error("'{}' needs an app", operation);
  }
  if (app.empty()) {
    return {};
  }
  TRY(validate_app_name(app));
  if (!actor.admin && !may_access(context, app)) {
    return fail_as(ErrorKind::forbidden, "{} has no access to app '{}'", actor.describe(), app);
  }
  return require_app(context.layout, app);
}

} // namespace slipway::ops
