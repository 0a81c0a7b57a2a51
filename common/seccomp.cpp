#include "common/seccomp.hpp"

#include <cerrno>
#include <memory>
#include <mutex>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include "common/fd.hpp"

namespace slipway {

namespace {

// Refused with EPERM: as in Docker's default profile, what a process needs a capability
// for anyway (so refusing costs an app nothing) and what reaches past the sandbox without
// one (open_by_handle_at after a leak of a capability, keyrings, io_uring, userfaultfd).
constexpr const char* k_refused[] = {
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "create_module",
    "delete_module",
    "fanotify_init",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mount",
    "mount_setattr",
    "move_mount",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "query_module",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "setns",
    "settimeofday",
    "stime",
    "swapoff",
    "swapon",
    "syslog",
    "sysfs",
    "_sysctl",
    "umount",
    "umount2",
    "uselib",
    "userfaultfd",
    "ustat",
    "vhangup",
    "vm86",
    "vm86old",
};

struct FilterFree {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

int add(scmp_filter_ctx ctx, std::uint32_t action, const char* name, unsigned count = 0,
        const scmp_arg_cmp* args = nullptr) {
  int number = seccomp_syscall_resolve_name(name);
  if (number == __NR_SCMP_ERROR) {
    return 0; // not a system call of this architecture (vm86 on x86_64, ...)
  }
  return seccomp_rule_add_array(ctx, action, number, count, args);
}

Expected<std::string> build() {
  std::unique_ptr<void, FilterFree> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) {
    return fail("cannot build the seccomp filter: seccomp_init failed");
  }
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  // bubblewrap sets no_new_privs itself before it loads the filter.
  if (rc == 0) {
    rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  }
  for (const char* name : k_refused) {
    if (rc == 0) {
      rc = add(ctx.get(), SCMP_ACT_ERRNO(EPERM), name);
    }
  }
  // No new user namespace: inside one a process holds every capability over it, the way
  // most kernel escapes begin. clone3's flags live in memory seccomp cannot read, so it is
  // refused as missing and libc falls back to clone.
  const scmp_arg_cmp new_user = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
  if (rc == 0) {
    rc = add(ctx.get(), SCMP_ACT_ERRNO(EPERM), "clone", 1, &new_user);
  }
  if (rc == 0) {
    rc = add(ctx.get(), SCMP_ACT_ERRNO(EPERM), "unshare", 1, &new_user);
  }
  if (rc == 0) {
    rc = add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3");
  }
  // Typing into the terminal of whoever started the process.
  for (unsigned long request :
       {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    const scmp_arg_cmp is_request = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, request);
    if (rc == 0) {
      rc = add(ctx.get(), SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &is_request);
    }
  }
  if (rc != 0) {
    return fail("cannot build the seccomp filter: {}", errno_text(-rc));
  }
  UniqueFd memory(memfd_create("slipway-seccomp", MFD_CLOEXEC));
  if (!memory) {
    return fail("cannot build the seccomp filter: memfd_create: {}", errno_text(errno));
  }
  if (int exported = seccomp_export_bpf(ctx.get(), memory.get()); exported != 0) {
    return fail("cannot export the seccomp filter: {}", errno_text(-exported));
  }
  std::string program;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = pread(memory.get(), buffer, sizeof buffer, static_cast<off_t>(program.size()))) > 0) {
    program.append(buffer, static_cast<std::size_t>(n));
  }
  if (program.empty()) {
    return fail("cannot export the seccomp filter: it came out empty");
  }
  return program;
}

} // namespace

Expected<std::string> seccomp_program() {
  static std::once_flag once;
  static Expected<std::string> program = fail("unset");
  std::call_once(once, [] { program = build(); });
  return program;
}

} // namespace slipway
