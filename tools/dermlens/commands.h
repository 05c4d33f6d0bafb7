// Each subcommand lives in its own cmd_<name>.cpp and exposes one register
// function. It declares its options on `parent` (with help text and defaults,
// filled into a parameter struct that has validate()) and returns the runner
// main() calls when that subcommand was chosen. Runners throw dermlens::Error;
// main() turns it into a message and an exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace dermlens::cli {

using Runner = std::function<int()>;

struct Command {
    CLI::App * app;
    Runner run;
};

void register_version(CLI::App & root, std::vector<Command> & commands);   // cmd_version.cpp
void register_diagnose(CLI::App & root, std::vector<Command> & commands);  // cmd_diagnose.cpp
void register_demo(CLI::App & root, std::vector<Command> & commands);      // cmd_demo.cpp
void register_dev(CLI::App & root, std::vector<Command> & commands);       // cmd_dev.cpp (dev make-test-model)
void register_kb(CLI::App & root, std::vector<Command> & commands);        // cmd_kb.cpp (kb check, show, labelset, relation, ddx)
void register_embed(CLI::App & root, std::vector<Command> & commands);     // cmd_embed.cpp
void register_probe(CLI::App & root, std::vector<Command> & commands);     // cmd_probe.cpp (probe train, predict, eval)
void register_tune(CLI::App & root, std::vector<Command> & commands);      // cmd_tune.cpp
void register_dataset(CLI::App & root, std::vector<Command> & commands);   // cmd_dataset.cpp (dataset import)
void register_data(CLI::App & root, std::vector<Command> & commands);      // cmd_data.cpp (data split-captions, annotate, filter, stats)
void register_ground(CLI::App & root, std::vector<Command> & commands);    // cmd_ground.cpp (ground abstention, blind, attention)
void register_eval(CLI::App & root, std::vector<Command> & commands);      // cmd_eval.cpp
void register_train_data(CLI::App & root, std::vector<Command> & commands);  // cmd_train_data.cpp (train-data export)
void register_reward(CLI::App & root, std::vector<Command> & commands);      // cmd_reward.cpp (reward score)
void register_eval_merge(CLI::App & eval, std::vector<Command> & commands);  // cmd_eval_merge.cpp (eval merge)

}  // namespace dermlens::cli
