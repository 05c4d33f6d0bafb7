#include "commands.h"

namespace dermlens::cli {

// Placeholder until the demo subcommand lands.
void register_demo(CLI::App &, std::vector<Command> &) {}

}  // namespace dermlens::cli
