#include "common/lazy_library.hpp"

#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>

namespace slipway {

namespace {

[[noreturn]] void cannot_load(const char* what) {
  // No logger or output convention can be relied on this deep: say it and stop, as ld.so does.
  std::fprintf(stderr, "slipway: %s\n", what);
  std::_Exit(127);
}

} // namespace

void* LazyLibrary::handle() const {
  std::call_once(m_once, [this] {
    m_handle = ::dlopen(m_soname, RTLD_NOW | RTLD_LOCAL);
    if (m_handle == nullptr) {
      cannot_load(::dlerror());
    }
  });
  return m_handle;
}

void* LazyLibrary::function(const char* name) const {
  void* address = ::dlsym(handle(), name);
  if (address == nullptr) {
    cannot_load(::dlerror());
  }
  return address;
}

} // namespace slipway
