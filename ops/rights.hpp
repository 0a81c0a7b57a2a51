// Who may do what: one table of the operations a front end can ask for, and the one check
// every operation makes before it reads or changes anything. The ssh command's list of
// commands and its help come from the same table.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "ops/context.hpp"

namespace slipway::ops {

enum class Scope {
  app,    // on one app: an admin, or a key the app names (a collaborator)
  admin,  // an admin key (or the local user)
  listing // anyone; what is listed depends on the actor
};

struct OperationInfo {
  std::string_view name; // the command's name: "config:set"
  Scope scope;
  bool remote; // may be asked for over ssh (and the API); false: the server's local user only
};

// Every operation, in the order `help` lists them.
std::span<const OperationInfo> operations();

// Other names of operations, Heroku's: "releases:rollback" is "rollback".
struct CommandAlias {
  std::string_view alias;
  std::string_view command;
};
std::span<const CommandAlias> command_aliases();

// The command `name` stands for: an alias's command, else `name` itself.
std::string_view canonical_command(std::string_view name);

// The operation named `name` (or an alias of it).
std::optional<OperationInfo> find_operation(std::string_view name);

// Whether the context's actor may do `operation`; with an `app` (always for an app-scoped
// operation), on that app: its name is validated first, and it must exist. A collaborator is told
// "no access" whether or not the app exists, so that keys cannot probe other people's app names.
Expected<void> authorize(const Context& context, std::string_view operation,
                         const std::string& app = "");

// Whether the actor may act on `app` (no error: for listings).
bool may_access(const Context& context, const std::string& app);

// Whether a build for `app` may take the slug `lender` built from the same commit: the actor
// may use `lender`, and whoever may change `lender` (its collaborators; admins may change
// every app) may change `app` too. A build can bake its app's config into the slug, so the
// slug is only as trusted as those who can shape that build.
bool may_reuse_build(const Context& context, const std::string& lender, const std::string& app);

} // namespace slipway::ops
