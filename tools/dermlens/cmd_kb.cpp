// dermlens kb check | show NAME | labelset [NAME] | relation PRED TRUTH | ddx NAME | stats
//   [--kb DIR]... [--labelset SET] [--json]
// The clinical knowledge base from the command line (docs/kb-cli.md).
#include "kb_options.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <filesystem>

namespace dermlens::cli {

void KbOptions::validate() const {
    for (const auto & dir : overlays) {
        if (!std::filesystem::is_directory(dir)) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("--kb '{}': no such folder", dir));
        }
    }
}

kb::KnowledgeBase KbOptions::load() const {
    validate();
    std::vector<std::filesystem::path> dirs{kb::KnowledgeBase::shipped_dir()};
    dirs.insert(dirs.end(), overlays.begin(), overlays.end());
    return kb::KnowledgeBase::load(dirs);
}

std::string NameOptions::resolve(const kb::KnowledgeBase & base, const std::string & name) const {
    return label_set.empty() ? base.resolve(name) : base.resolve(name, label_set);
}

std::optional<std::string_view> NameOptions::label_set_or_none() const {
    return label_set.empty() ? std::nullopt : std::optional<std::string_view>(label_set);
}

void add_kb_options(CLI::App & app, KbOptions & options) {
    app.add_option("--kb", options.overlays,
                   "Folder of knowledge-base files that extend or override the shipped data/kb/ (repeatable, read "
                   "in order)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_flag("--json", options.json, "Print JSON (docs/kb-cli.md)");
}

void add_name_options(CLI::App & app, NameOptions & options) {
    add_kb_options(app, options.kb);
    app.add_option("--labelset", options.label_set, "Resolve names through this label set's labels first");
}

void print_json(const nlohmann::ordered_json & value) {
    fmt::print("{}\n", value.dump(2));
}

std::string named(const kb::KnowledgeBase & base, const std::string & id) {
    return fmt::format("{} ({})", base.condition(id).name, id);
}

void register_kb(CLI::App & root, std::vector<Command> & commands) {
    auto * kb = root.add_subcommand("kb", "Query and validate the clinical knowledge base (data/kb/)");
    kb->require_subcommand(1);
    register_kb_check(*kb, commands);
    register_kb_show(*kb, commands);
    register_kb_labelset(*kb, commands);
    register_kb_relation(*kb, commands);
    register_kb_ddx(*kb, commands);
    register_kb_stats(*kb, commands);
}

}  // namespace dermlens::cli
