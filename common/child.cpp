#include "common/child.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <grp.h>
#include <map>
#include <sys/resource.h>
#include <unistd.h>

#include <climits>

namespace slipway::child {

namespace {

// The executable `name` names in this process's PATH, or "".
std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    std::string candidate = fmt::format("{}/{}", dirs.substr(0, colon), name);
    if (access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    dirs.remove_prefix(colon == std::string_view::npos ? dirs.size() : colon + 1);
  }
  return "";
}

} // namespace

void keep_only_inherited(const ChildSetup& setup) {
  if (close_range(3, UINT_MAX, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3, max = static_cast<int>(sysconf(_SC_OPEN_MAX)); fd < max; ++fd) {
      fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
  for (const auto& fd : setup.inherit) {
    fcntl(fd->get(), F_SETFD, 0);
  }
}

bool apply_child_setup(const ChildSetup& setup) {
  if (setup.overlay && !mount_overlay_in_child(*setup.overlay)) {
    return false;
  }
  for (const auto& procs : setup.cgroups) {
    if (write(procs->get(), "0", 1) != 1) {
      return false;
    }
  }
  for (const auto& [resource, value] : setup.rlimits) {
    rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
    if (setrlimit(resource, &limit) != 0) {
      return false;
    }
  }
  if (setup.user) {
    if (setgroups(0, nullptr) != 0 || setgid(setup.user->gid) != 0 ||
        setuid(setup.user->uid) != 0) {
      return false;
    }
  }
  return true;
}

void give_pipes(const ChildSetup& setup, std::initializer_list<int> fds) {
  if (setup.user) {
    for (int fd : fds) {
      if (fd >= 0) {
        [[maybe_unused]] int rc = fchown(fd, setup.user->uid, setup.user->gid);
      }
    }
  }
}

std::vector<std::string> child_environment(const Command& command) {
  std::map<std::string, std::string> env;
  if (!command.clear_env) {
    for (char** entry = environ; *entry; ++entry) {
      std::string_view text(*entry);
      auto equals = text.find('=');
      if (equals != std::string_view::npos) {
        env.emplace(text.substr(0, equals), text.substr(equals + 1));
      }
    }
  }
  for (const auto& name : command.env_remove) {
    env.erase(name);
  }
  for (const auto& [name, value] : command.env) {
    env[name] = value;
  }
  std::vector<std::string> entries;
  entries.reserve(env.size());
  for (const auto& [name, value] : env) {
    entries.push_back(name + "=" + value);
  }
  return entries;
}

Expected<std::string> executable(const Command& command) {
  if (command.argv.empty()) {
    return fail("cannot run an empty command");
  }
  const std::string& name = command.argv[0];
  if (name.find('/') != std::string::npos) {
    return name;
  }
  std::string found = find_in_path(name);
  if (found.empty()) {
    return fail("cannot run '{}': not found in PATH", name);
  }
  return found;
}

std::vector<char*> null_terminated(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const auto& text : strings) {
    pointers.push_back(const_cast<char*>(text.c_str()));
  }
  pointers.push_back(nullptr);
  return pointers;
}

} // namespace slipway::child
