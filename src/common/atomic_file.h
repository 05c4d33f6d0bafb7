// Whole files written so that a reader never sees half of one: the bytes go to a temporary
// file in the destination's folder, are flushed to disk (fsync) and renamed over the
// destination, which POSIX rename(2) replaces in one step. A process killed mid-write (Ctrl-C
// during `tune`, an OOM kill) leaves the old file intact, not a truncated probe, report or
// manifest; a killed writer can leave only its temporary file (".NAME.XXXXXX.tmp") behind.
#pragma once

#include <filesystem>
#include <string_view>

namespace dermlens {

// Replaces `path` with `bytes` (creating it when absent; through a symbolic link, the link's
// target; a destination that is not a regular file is refused). `what` names the file in errors
// ("probe file", "heat map PNG"). The folder must exist: the caller creates it when that is
// its job. On any failure the temporary file is removed, `path` is left as it was, and
// Error(InvalidInput) names `what`, the path and the reason ("probe file 'a/b.probe': cannot
// create it: folder 'a' does not exist").
void write_file_atomically(const std::filesystem::path & path, std::string_view bytes,
                           std::string_view what = "file");

}  // namespace dermlens
