// The seccomp filter every sandboxed process runs under, modelled on Docker's default
// profile: it refuses (EPERM) the calls that reach past the sandbox or into the kernel's
// administration — file handles (open_by_handle_at), mounts, new user namespaces, ptrace,
// kexec, modules, bpf, keyrings, perf, userfaultfd, io_uring, terminal injection — and
// kills a process that makes system calls of another architecture (i386, x32).
#pragma once

#include <string>

#include "common/error.hpp"

namespace slipway {

// The filter as a BPF program, the form bubblewrap's --seccomp FD reads. Built once per
// process with libseccomp.
Expected<std::string> seccomp_program();

} // namespace slipway
