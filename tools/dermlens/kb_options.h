// What the `dermlens kb` subcommands share: the --kb/--json/--labelset options,
// loading the knowledge base with the user's overlays, and small printers.
// Each subcommand lives in its own cmd_kb_<name>.cpp.
#pragma once

#include "commands.h"

#include "dermlens/kb/knowledge_base.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::cli {

// Options every kb subcommand shares.
struct KbOptions {
    std::vector<std::string> overlays;
    bool json = false;

    void validate() const;            // every --kb folder exists; throws Error(InvalidArgument)
    kb::KnowledgeBase load() const;   // the shipped knowledge base, then the overlays in order
};

// Options of the subcommands that take condition names, which dataset labels may be.
struct NameOptions {
    KbOptions kb;
    std::string label_set;  // empty: resolve through every label set

    std::string resolve(const kb::KnowledgeBase & base, const std::string & name) const;
    std::optional<std::string_view> label_set_or_none() const;
};

// Options of the subcommands about one condition (show, ddx).
struct ConditionOptions {
    NameOptions names;
    std::string name;
};

void add_kb_options(CLI::App & app, KbOptions & options);      // --kb DIR..., --json
void add_name_options(CLI::App & app, NameOptions & options);  // those and --labelset

void print_json(const nlohmann::ordered_json & value);
std::string named(const kb::KnowledgeBase & base, const std::string & id);  // "name (id)"

void register_kb_check(CLI::App & kb, std::vector<Command> & commands);     // cmd_kb_check.cpp
void register_kb_show(CLI::App & kb, std::vector<Command> & commands);      // cmd_kb_show.cpp
void register_kb_labelset(CLI::App & kb, std::vector<Command> & commands);  // cmd_kb_labelset.cpp
void register_kb_relation(CLI::App & kb, std::vector<Command> & commands);  // cmd_kb_relation.cpp
void register_kb_ddx(CLI::App & kb, std::vector<Command> & commands);       // cmd_kb_ddx.cpp
void register_kb_stats(CLI::App & kb, std::vector<Command> & commands);     // cmd_kb_stats.cpp

}  // namespace dermlens::cli
