#include "commands.h"

namespace dermlens::cli {

// Placeholder until the dev subcommand lands.
void register_dev(CLI::App &, std::vector<Command> &) {}

}  // namespace dermlens::cli
