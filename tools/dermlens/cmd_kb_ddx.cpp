// dermlens kb ddx NAME: a condition's differential-diagnosis neighbours
#include "kb_options.h"

#include <fmt/format.h>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

int run_ddx(const ConditionOptions & options) {
    const kb::KnowledgeBase base = options.names.kb.load();
    const std::string id = options.names.resolve(base, options.name);
    const auto & neighbours = base.neighbours(id);
    if (options.names.kb.json) {
        ordered_json list = ordered_json::array();
        for (const auto & neighbour : neighbours) {
            list.push_back({{"id", neighbour}, {"name", base.condition(neighbour).name}});
        }
        print_json({{"id", id}, {"name", base.condition(id).name}, {"neighbours", list}});
        return 0;
    }
    fmt::print("{}: {} DDx neighbour{}\n", named(base, id), neighbours.size(), neighbours.size() == 1 ? "" : "s");
    for (const auto & neighbour : neighbours) {
        fmt::print("  {}\n", named(base, neighbour));
    }
    return 0;
}

}  // namespace

void register_kb_ddx(CLI::App & kb, std::vector<Command> & commands) {
    auto ddx = std::make_shared<ConditionOptions>();
    auto * ddx_app = kb.add_subcommand("ddx", "List a condition's differential-diagnosis neighbours");
    ddx_app->add_option("name", ddx->name, "Condition id, name, synonym or dataset label")->required();
    add_name_options(*ddx_app, ddx->names);
    commands.push_back({ddx_app, [ddx] { return run_ddx(*ddx); }});
}

}  // namespace dermlens::cli
