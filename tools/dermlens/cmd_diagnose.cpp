#include "commands.h"

namespace dermlens::cli {

// Placeholder until the diagnose subcommand lands.
void register_diagnose(CLI::App &, std::vector<Command> &) {}

}  // namespace dermlens::cli
