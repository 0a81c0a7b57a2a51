// What an ssh client asked for: SSH_ORIGINAL_COMMAND, split into words the way a shell
// would split a plain command line (quotes and backslashes), but with no shell: nothing is
// expanded, and characters a shell would treat specially are refused unless quoted.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "runtime/layout.hpp"

namespace slipway {

// Words of `command`. Single quotes keep everything literally; double quotes keep everything
// but `\"` and `\\`; outside quotes a backslash keeps the next character. Refused, naming
// the problem: control characters (newlines, NUL, ...), non-ASCII bytes outside quotes,
// unquoted ; & | < > ( ) $ ` * ? [ ] { } ~ (except a leading ~/ of a git path) and #,
// unterminated quotes, and more than 64 KiB or 256 words.
Expected<std::vector<std::string>> split_ssh_command(std::string_view command);

struct GitRequest {
  enum class Service { receive_pack, upload_pack } service;
  std::string app; // validated
};

// `git-receive-pack 'APP'` or `git-upload-pack 'APP'`, the path as 'APP', '/APP',
// 'APP.git' or '~/APP' (and combinations): the app's name, validated. nullopt when the
// words are not a git request at all (a slipway command); an error when they are one that
// is malformed.
Expected<std::optional<GitRequest>> parse_git_request(const std::vector<std::string>& words);

// `slipway ssh-command KEYNAME`, sshd's forced command for that key: reads
// SSH_ORIGINAL_COMMAND, checks it against the key's rights, records it in the audit log,
// and execs git-receive-pack/git-upload-pack on the app's repository or the slipway command,
// with SLIPWAY_USER=KEYNAME. Returns only when it does not exec (a refusal, or the help).
Expected<void> run_ssh_command(const Layout& layout, const std::string& key_name);

} // namespace slipway
