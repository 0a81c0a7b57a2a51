// A shared library loaded the first time one of its functions is called rather than at every
// start of the binary. libgit2 and libarchive bring 20 more libraries with them (Kerberos,
// mbed TLS, libssh2, libxml2 and ICU, ...); mapping and relocating them all took 6 of the
// 12 ms that any `slipway` command spent before main(), while most commands (releases,
// config, rollback, ps) call neither. See docs/DECISIONS.md.
//
//   namespace slipway::libgit2 {
//   inline const LazyLibrary library{"libgit2.so.1.5"};
//   SLIPWAY_LAZY_FUNCTION(library, git_repository_open_bare)
//   }
//   libgit2::git_repository_open_bare(&repo, path);  // the library's own declaration and types
#pragma once

#include <mutex>
#include <utility>

namespace slipway {

class LazyLibrary {
 public:
  explicit LazyLibrary(const char* soname) : m_soname(soname) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // The address of the function `name`. A library or function that cannot be loaded ends
  // the process with a message that names it, as the dynamic loader would at start.
  void* function(const char* name) const;

 private:
  void* handle() const;

  const char* m_soname;
  mutable std::once_flag m_once;
  mutable void* m_handle = nullptr;
};

} // namespace slipway

// Defines NAME in the enclosing namespace as a call of the library's NAME, typed by the
// library's own header (decltype does not reference the symbol, so nothing links it).
#define SLIPWAY_LAZY_FUNCTION(library, name)                                                       \
  template <class... Args>                                                                         \
  decltype(auto) name(Args&&... args) {                                                            \
    static auto* const function = reinterpret_cast<decltype(&::name)>((library).function(#name));  \
    return function(std::forward<Args>(args)...);                                                  \
  }
