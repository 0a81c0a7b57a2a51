// How a request's target is read (api/ only): its path's segments, a route's pattern matched
// against them, and (endpoints.hpp's query_value) its query's parameters, all decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::api {

// The path's segments, percent-decoded; nullopt for a path that does not decode (or holds
// a '/' or NUL once decoded, which no parameter may).
std::optional<std::vector<std::string>> path_segments(std::string_view path);

// Whether `segments` match `pattern` ("/apps/{}/releases"); the parameters when they do.
std::optional<std::vector<std::string>> match(std::string_view pattern,
                                              const std::vector<std::string>& segments);

} // namespace slipway::api
