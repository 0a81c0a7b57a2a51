// libgit2, loaded when slipway first reads or writes a repository (common/lazy_library.hpp).
// Every libgit2 function slipway calls is listed here and called as libgit2::NAME.
#pragma once

#include <git2.h>

#include "common/lazy_library.hpp"

namespace slipway::libgit2 {

inline const LazyLibrary library{SLIPWAY_LIBGIT2_SONAME};

SLIPWAY_LAZY_FUNCTION(library, git_checkout_tree)
SLIPWAY_LAZY_FUNCTION(library, git_clone)
SLIPWAY_LAZY_FUNCTION(library, git_commit_author)
SLIPWAY_LAZY_FUNCTION(library, git_commit_free)
SLIPWAY_LAZY_FUNCTION(library, git_commit_id)
SLIPWAY_LAZY_FUNCTION(library, git_commit_lookup)
SLIPWAY_LAZY_FUNCTION(library, git_commit_summary)
SLIPWAY_LAZY_FUNCTION(library, git_commit_tree)
SLIPWAY_LAZY_FUNCTION(library, git_config_free)
SLIPWAY_LAZY_FUNCTION(library, git_config_set_bool)
SLIPWAY_LAZY_FUNCTION(library, git_credential_ssh_key_memory_new)
SLIPWAY_LAZY_FUNCTION(library, git_credential_userpass_plaintext_new)
SLIPWAY_LAZY_FUNCTION(library, git_error_last)
SLIPWAY_LAZY_FUNCTION(library, git_libgit2_init)
SLIPWAY_LAZY_FUNCTION(library, git_libgit2_opts)
SLIPWAY_LAZY_FUNCTION(library, git_object_free)
SLIPWAY_LAZY_FUNCTION(library, git_object_id)
SLIPWAY_LAZY_FUNCTION(library, git_odb_add_disk_alternate)
SLIPWAY_LAZY_FUNCTION(library, git_odb_free)
SLIPWAY_LAZY_FUNCTION(library, git_odb_object_data)
SLIPWAY_LAZY_FUNCTION(library, git_odb_object_free)
SLIPWAY_LAZY_FUNCTION(library, git_odb_object_size)
SLIPWAY_LAZY_FUNCTION(library, git_odb_object_type)
SLIPWAY_LAZY_FUNCTION(library, git_odb_read)
SLIPWAY_LAZY_FUNCTION(library, git_oid_fromstr)
SLIPWAY_LAZY_FUNCTION(library, git_oid_tostr)
SLIPWAY_LAZY_FUNCTION(library, git_reference_name_is_valid)
SLIPWAY_LAZY_FUNCTION(library, git_reference_name_to_id)
SLIPWAY_LAZY_FUNCTION(library, git_reference_remove)
SLIPWAY_LAZY_FUNCTION(library, git_remote_create_anonymous)
SLIPWAY_LAZY_FUNCTION(library, git_remote_fetch)
SLIPWAY_LAZY_FUNCTION(library, git_remote_free)
SLIPWAY_LAZY_FUNCTION(library, git_repository_free)
SLIPWAY_LAZY_FUNCTION(library, git_repository_config)
SLIPWAY_LAZY_FUNCTION(library, git_repository_init_ext)
SLIPWAY_LAZY_FUNCTION(library, git_repository_odb)
SLIPWAY_LAZY_FUNCTION(library, git_repository_open_bare)
SLIPWAY_LAZY_FUNCTION(library, git_repository_open_ext)
SLIPWAY_LAZY_FUNCTION(library, git_repository_set_head_detached)
SLIPWAY_LAZY_FUNCTION(library, git_revparse_single)
SLIPWAY_LAZY_FUNCTION(library, git_revwalk_free)
SLIPWAY_LAZY_FUNCTION(library, git_revwalk_hide)
SLIPWAY_LAZY_FUNCTION(library, git_revwalk_new)
SLIPWAY_LAZY_FUNCTION(library, git_revwalk_next)
SLIPWAY_LAZY_FUNCTION(library, git_revwalk_push)
SLIPWAY_LAZY_FUNCTION(library, git_revwalk_sorting)
SLIPWAY_LAZY_FUNCTION(library, git_tree_entry_byindex)
SLIPWAY_LAZY_FUNCTION(library, git_tree_entry_filemode)
SLIPWAY_LAZY_FUNCTION(library, git_tree_entry_id)
SLIPWAY_LAZY_FUNCTION(library, git_tree_entry_name)
SLIPWAY_LAZY_FUNCTION(library, git_tree_entrycount)
SLIPWAY_LAZY_FUNCTION(library, git_tree_free)
SLIPWAY_LAZY_FUNCTION(library, git_tree_lookup)

} // namespace slipway::libgit2
