// What a child needs between fork and exec, for run() and spawn() (subprocess.hpp): its
// argv[0] found, its environment and argv as execve wants them, and ChildSetup applied.
// Internal to common/.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "common/subprocess.hpp"

namespace slipway::child {

// Marks every descriptor from 3 up close-on-exec, then lets the child keep those it was
// given. Async-signal-safe: runs between fork and exec.
void keep_only_inherited(const ChildSetup& setup);

// The overlay, cgroups, limits and user of ChildSetup, in the child. Async-signal-safe;
// false (with errno set) when one cannot be applied: the child must not run without it.
bool apply_child_setup(const ChildSetup& setup);

// A child that changes its user must still be able to open its stdio by name
// (/dev/stdout, which many servers log to, reopens the pipe): the pipes become its own.
void give_pipes(const ChildSetup& setup, std::initializer_list<int> fds);

// "NAME=VALUE" strings for execve.
std::vector<std::string> child_environment(const Command& command);

// argv[0] as a path to exec: itself when it has a '/', else looked up in PATH.
Expected<std::string> executable(const Command& command);

// The char* array execve wants, pointing into `strings` (which must outlive it).
std::vector<char*> null_terminated(const std::vector<std::string>& strings);

} // namespace slipway::child
