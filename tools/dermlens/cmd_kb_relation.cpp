// dermlens kb relation PRED TRUTH: exact, synonym, subclass, parent, sibling or unrelated
#include "kb_options.h"

#include "dermlens/kb/relation.h"

#include <fmt/format.h>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

struct RelationOptions {
    NameOptions names;
    std::string predicted;
    std::string truth;
};

int run_relation(const RelationOptions & options) {
    const kb::KnowledgeBase base = options.names.kb.load();
    const kb::Relation relation =
        kb::relation(base, options.predicted, options.truth, options.names.label_set_or_none());
    const std::string_view kind = kb::relation_name(relation.kind);
    if (options.names.kb.json) {
        const auto side = [&](const std::string & text, const std::string & id) {
            return ordered_json{{"text", text}, {"id", id}, {"name", base.condition(id).name}};
        };
        print_json({{"predicted", side(options.predicted, relation.predicted)},
                    {"truth", side(options.truth, relation.truth)},
                    {"relation", kind},
                    {"levels", relation.levels}});
        return 0;
    }
    const std::string levels =
        relation.levels == 0 ? "" : fmt::format(" ({} level{})", relation.levels, relation.levels == 1 ? "" : "s");
    fmt::print("relation:  {}{}\npredicted: '{}' = {}\ntruth:     '{}' = {}\n", kind, levels, options.predicted,
               named(base, relation.predicted), options.truth, named(base, relation.truth));
    return 0;
}

}  // namespace

void register_kb_relation(CLI::App & kb, std::vector<Command> & commands) {
    auto relation = std::make_shared<RelationOptions>();
    auto * relation_app = kb.add_subcommand(
        "relation", "How a predicted diagnosis relates to the true one: exact, synonym, subclass, parent, sibling "
                    "or unrelated");
    relation_app->add_option("predicted", relation->predicted, "Predicted condition name")->required();
    relation_app->add_option("truth", relation->truth, "True condition name")->required();
    add_name_options(*relation_app, relation->names);
    commands.push_back({relation_app, [relation] { return run_relation(*relation); }});
}

}  // namespace dermlens::cli
