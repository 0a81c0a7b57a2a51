// export_tool REPO COMMIT DEST: slipway's export of a commit's tree, alone, for bench/push
// to time against `git archive | tar -x`.
#include <cstdio>

#include "compiler/git_export.hpp"

int main(int argc, char** argv) {
  using namespace slipway;
  if (argc != 4) {
    std::fprintf(stderr, "usage: export_tool REPO COMMIT DEST\n");
    return 2;
  }
  auto repo = git::open(argv[1]);
  if (!repo) {
    std::fprintf(stderr, "export_tool: %s\n", repo.error().message.c_str());
    return 1;
  }
  auto exported = git::export_commit(repo->get(), argv[2], argv[3]);
  if (!exported) {
    std::fprintf(stderr, "export_tool: %s\n", exported.error().message.c_str());
    return 1;
  }
  std::printf("%llu files, %llu bytes\n", static_cast<unsigned long long>(exported->files),
              static_cast<unsigned long long>(exported->bytes));
  return 0;
}
