#include "commands.h"

#include "dermlens/version.h"

#include <cstdio>

namespace dermlens::cli {

void register_version(CLI::App & root, std::vector<Command> & commands) {
    auto * app = root.add_subcommand("version", "Print dermlens's and llama.cpp's versions");
    commands.push_back({app, [] {
        std::printf("dermlens %s (llama.cpp %s)\n", version(), llama_cpp_commit());
        return 0;
    }});
}

}  // namespace dermlens::cli
