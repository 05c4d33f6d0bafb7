// dermlens kb labelset [NAME]: the label sets, or one set's labels in order and their conditions
#include "kb_options.h"

#include "kb/report_json.h"

#include <fmt/format.h>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

struct LabelSetOptions {
    KbOptions kb;
    std::string name;  // empty: list the label sets
};

int list_label_sets(const kb::KnowledgeBase & base, bool json) {
    ordered_json list = ordered_json::array();
    for (const auto & name : base.label_set_names()) {
        const kb::LabelSet & set = base.label_set(name);
        if (json) {
            list.push_back(
                {{"name", name}, {"title", set.title}, {"labels", set.labels.size()}, {"described", set.described}});
        } else {
            fmt::print("{:<20} {:>4} labels{}  {}\n", name, set.labels.size(), set.described ? ", described" : "",
                       set.title);
        }
    }
    if (json) {
        print_json(list);
    }
    return 0;
}

int show_label_set(const kb::KnowledgeBase & base, const std::string & name, bool json) {
    const kb::LabelSet & set = base.label_set(name);
    if (json) {
        print_json(kb::label_set_json(base, set));
        return 0;
    }
    fmt::print("{}: {}\nsource: {}\ndescribed: {}\n", set.name, set.title, set.source, set.described ? "yes" : "no");
    for (const auto & label : set.labels) {
        fmt::print("  {} -> {}\n", label.label, named(base, label.condition));
    }
    return 0;
}

int run_label_set(const LabelSetOptions & options) {
    const kb::KnowledgeBase base = options.kb.load();
    return options.name.empty() ? list_label_sets(base, options.kb.json)
                                : show_label_set(base, options.name, options.kb.json);
}

}  // namespace

void register_kb_labelset(CLI::App & kb, std::vector<Command> & commands) {
    auto label_set = std::make_shared<LabelSetOptions>();
    auto * label_set_app =
        kb.add_subcommand("labelset", "List the label sets, or show one: its labels in order and their conditions");
    label_set_app->add_option("name", label_set->name, "Label set name (e.g. ham10000)");
    add_kb_options(*label_set_app, label_set->kb);
    commands.push_back({label_set_app, [label_set] { return run_label_set(*label_set); }});
}

}  // namespace dermlens::cli
