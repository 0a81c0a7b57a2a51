#include "common/cgroup.hpp"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

#include "common/files.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

const fs::path k_mounts = "/sys/fs/cgroup";

// This process's cgroup in CONTROLLER's v1 hierarchy ("/system.slice/slipway.service"),
// from /proc/self/cgroup; nullopt when no v1 hierarchy has that controller.
std::optional<std::string> own_cgroup(std::string_view controller) {
  auto text = read_file("/proc/self/cgroup");
  if (!text) {
    return std::nullopt;
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    // "4:memory:/path" (v1) or "0::/path" (v2)
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) {
      continue;
    }
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    while (!controllers.empty()) {
      std::string_view name = controllers.substr(0, controllers.find(','));
      controllers.remove_prefix(std::min(controllers.size(), name.size() + 1));
      if (name == controller) {
        return std::string(line.substr(second + 1));
      }
    }
  }
  return std::nullopt;
}

// Where CONTROLLER's groups for slipway go, if this process may make them.
std::optional<fs::path> hierarchy(std::string_view controller) {
  if (geteuid() != 0) {
    return std::nullopt;
  }
  fs::path mount = k_mounts / controller;
  std::error_code ec;
  if (!fs::exists(mount / "cgroup.procs", ec)) {
    return std::nullopt;
  }
  auto own = own_cgroup(controller);
  if (!own) {
    return std::nullopt;
  }
  return mount / fs::path(*own).relative_path();
}

Expected<void> write_value(const fs::path& file, std::string_view value) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return fail("cannot write '{}' to '{}': {}", value, file.string(), errno_text(errno));
  }
  return {};
}

// Removes empty directories below `dir`, deepest first.
void remove_empty_below(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) {
      remove_empty_below(entry.path());
      ::rmdir(entry.path().c_str());
    }
  }
}

} // namespace

std::optional<Cgroup> Cgroup::create(std::string_view controller, std::string_view relative) {
  auto base = hierarchy(controller);
  if (!base) {
    return std::nullopt;
  }
  fs::path path = *base / relative;
  // Another sandbox's clean-up may remove an empty parent just as it is made: again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (!ec) {
      return Cgroup(path);
    }
  }
  return std::nullopt;
}

Expected<void> Cgroup::set(std::string_view file, std::string_view value) const {
  return write_value(m_path / file, value);
}

Expected<UniqueFd> Cgroup::open_procs() const {
  UniqueFd fd(::open((m_path / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    return fail("cannot open '{}': {}", (m_path / "cgroup.procs").string(), errno_text(errno));
  }
  return fd;
}

Expected<UniqueFd> Cgroup::oom_events() const {
  UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  UniqueFd control(::open((m_path / "memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
  if (!event || !control) {
    return fail("cannot watch '{}' for OOM kills: {}", m_path.string(), errno_text(errno));
  }
  TRY(set("cgroup.event_control", fmt::format("{} {}", event.get(), control.get())));
  return event;
}

std::uint64_t Cgroup::oom_kills() const {
  auto text = read_file(m_path / "memory.oom_control");
  if (!text) {
    return 0;
  }
  auto at = text->find("oom_kill ");
  std::uint64_t kills = 0;
  if (at != std::string::npos) {
    std::from_chars(text->data() + at + 9, text->data() + text->size(), kills);
  }
  return kills;
}

bool Cgroup::remove() const {
  // The processes of an ended sandbox may take a moment to be reaped.
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::rmdir(m_path.c_str()) == 0 || errno == ENOENT) {
      return true;
    }
    if (errno != EBUSY) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::shared_ptr<SandboxCgroups> SandboxCgroups::create(std::string_view root_id,
                                                       std::string_view app, std::string_view name,
                                                       std::uint64_t memory, int processes) {
  auto groups = std::make_shared<SandboxCgroups>();
  std::string app_group = fmt::format("slipway-{}/{}", root_id, app);
  if (memory > 0) {
    groups->memory = Cgroup::create("memory", fmt::format("{}/{}", app_group, name));
    if (groups->memory) {
      auto limited = groups->memory->set("memory.limit_in_bytes", std::to_string(memory));
      std::error_code ec;
      // Swap counts too, where the kernel accounts for it: the limit is on memory used.
      if (limited && fs::exists(groups->memory->path() / "memory.memsw.limit_in_bytes", ec)) {
        limited = groups->memory->set("memory.memsw.limit_in_bytes", std::to_string(memory));
      }
      if (!limited) {
        groups->memory->remove();
        groups->memory.reset();
      }
    }
  }
  if (processes > 0) {
    groups->pids = Cgroup::create("pids", app_group);
    if (groups->pids && !groups->pids->set("pids.max", std::to_string(processes))) {
      groups->pids.reset();
    }
  }
  return groups;
}

void SandboxCgroups::remove() const {
  // The app's memory group goes once nothing is left in it (a sandbox that makes one at
  // that moment tries again). Its pids group stays: a sibling sandbox may hold it open,
  // its child not yet in it; remove_stale_cgroups clears it when nothing runs.
  if (memory && memory->remove()) {
    ::rmdir(memory->path().parent_path().c_str());
  }
}

void remove_stale_cgroups(std::string_view root_id) {
  for (std::string_view controller : {"memory", "pids"}) {
    if (auto base = hierarchy(controller)) {
      remove_empty_below(*base / fmt::format("slipway-{}", root_id));
    }
  }
}

} // namespace slipway
