// dermlens kb show NAME: names, taxonomy path, malignancy, infectious, ICD codes, description, DDx neighbours,
// label sets; NAME may be a clinical code
#include "kb_options.h"

#include "kb/report_json.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dermlens::cli {
namespace {

std::string names_of(const kb::KnowledgeBase & base, const std::vector<std::string> & ids, std::string_view separator) {
    std::vector<std::string> names;
    for (const auto & id : ids) {
        names.push_back(base.condition(id).name);
    }
    return names.empty() ? "-" : fmt::format("{}", fmt::join(names, separator));
}

// "EA90", "EA90.5Y (broader: a category that contains it)", "-".
std::string code_text(const std::string & code, kb::CodeMatch match) {
    if (code.empty()) {
        return "-";
    }
    return match == kb::CodeMatch::Exact ? code : code + " (broader: a category that contains it)";
}

// "EA90", "- (none: <reason>)" when the condition records why it has no ICD-11 code, "-".
std::string icd11_text(const kb::Condition & condition) {
    if (condition.icd11.empty() && !condition.icd11_absent.empty()) {
        return fmt::format("- (none: {})", condition.icd11_absent);
    }
    return code_text(condition.icd11, condition.icd11_match);
}

void print_show(const kb::KnowledgeBase & base, const std::string & id) {
    const kb::Condition & condition = base.condition(id);
    fmt::print("{}\n", named(base, id));
    fmt::print("synonyms:     {}\n",
               condition.synonyms.empty() ? "-" : fmt::format("{}", fmt::join(condition.synonyms, ", ")));
    fmt::print("path to root: {}\n", names_of(base, base.path_to_root(id), " < "));
    fmt::print("children:     {}\n", names_of(base, base.children(id), ", "));
    const auto malignancy = base.malignancy(id);
    fmt::print("malignancy:   {}{}\n", malignancy ? kb::malignancy_name(*malignancy) : "not set",
               malignancy && !condition.malignancy ? " (inherited)" : "");
    fmt::print("infectious:   {}\n", base.infectious(id) ? "yes" : "no");
    fmt::print("ICD-11:       {}\n", icd11_text(condition));
    fmt::print("ICD-10:       {}\n", code_text(condition.icd10, condition.icd10_match));
    if (const auto & description = condition.description) {
        fmt::print("description:\n  location:     {}\n  lesion type:  {}\n  shape/border: {}\n  colour:       {}\n"
                   "  texture:      {}\n",
                   description->location, description->lesion_type, description->shape_border, description->colour,
                   description->texture);
    } else {
        fmt::print("description:  -\n");
    }
    fmt::print("ddx:          {}\n", names_of(base, base.neighbours(id), ", "));
    std::vector<std::string> uses;
    for (const auto & use : base.label_uses(id)) {
        uses.push_back(fmt::format("{} ({})", use.label_set, use.label));
    }
    fmt::print("label sets:   {}\n", uses.empty() ? "-" : fmt::format("{}", fmt::join(uses, ", ")));
}

int run_show(const ConditionOptions & options) {
    const kb::KnowledgeBase base = options.names.kb.load();
    const std::string id = options.names.resolve(base, options.name);
    if (options.names.kb.json) {
        print_json(kb::condition_json(base, id));
    } else {
        print_show(base, id);
    }
    return 0;
}

}  // namespace

void register_kb_show(CLI::App & kb, std::vector<Command> & commands) {
    auto show = std::make_shared<ConditionOptions>();
    auto * show_app = kb.add_subcommand("show", "Show a condition: names, taxonomy path, malignancy, infectious, ICD "
                                                 "codes, description, DDx neighbours, label sets");
    show_app->add_option("name", show->name, "Condition id, name, synonym, dataset label or clinical code (2C30, ICD10:C43)")->required();
    add_name_options(*show_app, show->names);
    commands.push_back({show_app, [show] { return run_show(*show); }});
}

}  // namespace dermlens::cli
