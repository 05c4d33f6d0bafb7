// dermlens kb check [--kb DIR]... [--json]: every problem of the knowledge base, or a summary
#include "cli_errors.h"
#include "kb_options.h"

#include "dermlens/error.h"

#include "kb/stats.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

// A condition without an ICD-11 code or a reason is not an error (a new overlay may not be coded
// yet), but the shipped knowledge base has none: name them so that they get one or the other.
void note_uncoded(const std::vector<std::string> & uncoded) {
    if (!uncoded.empty()) {
        fmt::print(stderr, "dermlens: note: {} {} neither an ICD-11 code nor icd11_absent: {}\n",
                   uncoded.size(), uncoded.size() == 1 ? "condition records" : "conditions record",
                   fmt::join(uncoded, ", "));
    }
}

int run_check(const KbOptions & options) {
    const kb::KnowledgeBase base = options.load();
    const auto problems = base.check();
    const auto uncoded = kb::uncoded_conditions(base);
    if (options.json) {
        ordered_json list = ordered_json::array();
        for (const auto & problem : problems) {
            list.push_back({{"file", problem.file.string()}, {"message", problem.message}});
        }
        print_json({{"ok", problems.empty()},
                    {"conditions", base.size()},
                    {"edges", base.edges().size()},
                    {"label_sets", base.label_set_names().size()},
                    {"problems", list},
                    {"uncoded", uncoded}});
    } else if (problems.empty()) {
        fmt::print("ok: {} conditions, {} edges, {} label sets\n", base.size(), base.edges().size(),
                   base.label_set_names().size());
    } else {
        for (const auto & problem : problems) {
            fmt::print("{}\n", problem.to_string());
        }
        fmt::print(stderr, "dermlens: error: the knowledge base has {} problem{}\n", problems.size(),
                   problems.size() == 1 ? "" : "s");
    }
    if (!options.json) {
        note_uncoded(uncoded);
    }
    return problems.empty() ? 0 : exit_code(ErrorKind::InvalidInput);
}

}  // namespace

void register_kb_check(CLI::App & kb, std::vector<Command> & commands) {
    auto check = std::make_shared<KbOptions>();
    auto * check_app = kb.add_subcommand("check", "Validate the knowledge base; list every problem (exit 3) or "
                                                   "print a summary");
    add_kb_options(*check_app, *check);
    commands.push_back({check_app, [check] { return run_check(*check); }});
}

}  // namespace dermlens::cli
