// dermlens — grounded dermatological diagnosis with vision-language models.
//
//   dermlens diagnose --model medgemma.gguf --mmproj mmproj.gguf --labels "melanoma,nevus" lesion.jpg
//   dermlens demo            # the same flow on a generated tiny model
//   dermlens kb show shingles
//   dermlens embed --manifest images/ --model m.gguf --mmproj mmproj.gguf   # fill the embedding cache
//   dermlens --version
#include "cli_errors.h"
#include "commands.h"

#include "dermlens/error.h"
#include "dermlens/version.h"

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
    cli::register_embed(app, commands);
    cli::register_probe(app, commands);
    cli::register_tune(app, commands);
    cli::register_dataset(app, commands);
    cli::register_data(app, commands);
    cli::register_ground(app, commands);
    cli::register_eval(app, commands);
    cli::register_train_data(app, commands);
    cli::register_reward(app, commands);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError & e) {
        // CLI11 has its own codes per parse failure (104, 106, ...); dermlens documents 2 for every
        // invalid argument. app.exit() prints the message, or the help / version, which stay 0.
        return app.exit(e) == 0 ? 0 : cli::exit_code(ErrorKind::InvalidArgument);
    }
    try {
        return run_chosen(commands);
    } catch (const Error & e) {
        std::fprintf(stderr, "dermlens: error: %s\n", cli::cli_message(e).c_str());
        return cli::exit_code(e.kind());
    } catch (const std::exception & e) {
        std::fprintf(stderr, "dermlens: internal error: %s\n", e.what());
        return 70;
    }
}
