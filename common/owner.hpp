// Who owns an app's files and runs its processes on the host.
#pragma once

#include <sys/types.h>

namespace slipway {

struct Owner {
  uid_t uid = 0;
  gid_t gid = 0;
};

} // namespace slipway
