// libarchive, loaded when slipway first packs or unpacks a slug (common/lazy_library.hpp).
// Every libarchive function slipway calls is listed here and called as libarchive::NAME.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "common/lazy_library.hpp"

namespace slipway::libarchive {

inline const LazyLibrary library{SLIPWAY_LIBARCHIVE_SONAME};

SLIPWAY_LAZY_FUNCTION(library, archive_entry_copy_hardlink)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_copy_pathname)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_copy_symlink)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_copy_gname)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_copy_uname)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_size)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_filetype)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_free)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_hardlink)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_new)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_pathname)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_mtime)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_perm)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_set_filetype)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_set_gid)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_set_mtime)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_set_perm)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_set_size)
SLIPWAY_LAZY_FUNCTION(library, archive_entry_set_uid)
SLIPWAY_LAZY_FUNCTION(library, archive_error_string)
SLIPWAY_LAZY_FUNCTION(library, archive_read_data_block)
SLIPWAY_LAZY_FUNCTION(library, archive_read_free)
SLIPWAY_LAZY_FUNCTION(library, archive_read_new)
SLIPWAY_LAZY_FUNCTION(library, archive_read_next_header)
SLIPWAY_LAZY_FUNCTION(library, archive_read_open)
SLIPWAY_LAZY_FUNCTION(library, archive_read_support_filter_gzip)
SLIPWAY_LAZY_FUNCTION(library, archive_read_support_filter_zstd)
SLIPWAY_LAZY_FUNCTION(library, archive_read_support_format_tar)
SLIPWAY_LAZY_FUNCTION(library, archive_set_error)
SLIPWAY_LAZY_FUNCTION(library, archive_write_add_filter_gzip)
SLIPWAY_LAZY_FUNCTION(library, archive_write_add_filter_zstd)
SLIPWAY_LAZY_FUNCTION(library, archive_write_close)
SLIPWAY_LAZY_FUNCTION(library, archive_write_data)
SLIPWAY_LAZY_FUNCTION(library, archive_write_data_block)
SLIPWAY_LAZY_FUNCTION(library, archive_write_disk_new)
SLIPWAY_LAZY_FUNCTION(library, archive_write_disk_set_options)
SLIPWAY_LAZY_FUNCTION(library, archive_write_finish_entry)
SLIPWAY_LAZY_FUNCTION(library, archive_write_free)
SLIPWAY_LAZY_FUNCTION(library, archive_write_header)
SLIPWAY_LAZY_FUNCTION(library, archive_write_new)
SLIPWAY_LAZY_FUNCTION(library, archive_write_open2)
SLIPWAY_LAZY_FUNCTION(library, archive_write_set_bytes_in_last_block)
SLIPWAY_LAZY_FUNCTION(library, archive_write_set_bytes_per_block)
SLIPWAY_LAZY_FUNCTION(library, archive_write_set_format_pax_restricted)
SLIPWAY_LAZY_FUNCTION(library, archive_write_set_options)

} // namespace slipway::libarchive
