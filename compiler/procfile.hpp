// The Procfile: `name: command` lines naming the app's process types.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace slipway {

// Process types in the order they were declared.
using ProcessTypes = std::vector<std::pair<std::string, std::string>>;

// Names are [A-Za-z0-9_-]+; '#' comments and blank lines are allowed; a malformed line,
// an empty command or a duplicate name is an error that names the line.
Expected<ProcessTypes> parse_procfile(std::string_view text);

bool is_process_type_name(std::string_view name);

// A process type's command, wherever it comes from (a Procfile, a buildpack's
// default_process_types): one line of UTF-8 text, not empty.
Expected<void> check_process_command(std::string_view name, std::string_view command);

// Fills `types` with each default whose name it lacks: a Procfile entry wins.
void merge_defaults(ProcessTypes& types, const ProcessTypes& defaults);

} // namespace slipway
