// "Did you mean ...?": the known word nearest to a mistyped one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

// Edits that turn `a` into `b`: inserting, deleting or replacing a character, or swapping
// two neighbours (the optimal string alignment distance).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, when it is near enough to be what was meant: at most 2
// edits, or a third of the word's length for longer words; ties go to the first candidate.
std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string>& candidates);

} // namespace slipway
