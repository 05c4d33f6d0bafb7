// dermlens — grounded dermatological diagnosis with vision-language models.
//
//   dermlens diagnose --model medgemma.gguf --mmproj mmproj.gguf --labels "melanoma,nevus" lesion.jpg
//   dermlens demo            # the same flow on a generated tiny model
//   dermlens kb show shingles
//   dermlens --version
#include "commands.h"

#include "dermlens/error.h"
#include "dermlens/version.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

namespace {

int run_chosen(const std::vector<dermlens::cli::Command> & commands) {
    for (const auto & command : commands) {
        if (command.app->parsed()) {
            return command.run();
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char ** argv) {
    using namespace dermlens;
    CLI::App app{"dermlens: grounded dermatological diagnosis with vision-language models"};
    app.set_version_flag("--version", std::string("dermlens ") + version() + " (llama.cpp " + llama_cpp_commit() + ")");
    app.require_subcommand(1);

    std::vector<cli::Command> commands;
    cli::register_version(app, commands);
    cli::register_diagnose(app, commands);
    cli::register_demo(app, commands);
    cli::register_dev(app, commands);
    cli::register_kb(app, commands);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError & e) {
        return app.exit(e);
    }
    try {
        return run_chosen(commands);
    } catch (const Error & e) {
        std::fprintf(stderr, "dermlens: error: %s\n", e.what());
        return e.exit_code();
    } catch (const std::exception & e) {
        std::fprintf(stderr, "dermlens: internal error: %s\n", e.what());
        return 70;
    }
}
