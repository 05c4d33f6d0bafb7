// dermlens kb check | show NAME | labelset [NAME] | relation PRED TRUTH | ddx NAME
//   [--kb DIR]... [--labelset SET] [--json]
// The clinical knowledge base from the command line (docs/kb-cli.md).
#include "commands.h"

#include "dermlens/error.h"
#include "kb/knowledge_base.h"
#include "kb/relation.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::cli {
namespace {

using nlohmann::ordered_json;

// Options every kb subcommand shares.
struct KbOptions {
    std::vector<std::string> overlays;
    bool json = false;

    void validate() const {
        for (const auto & dir : overlays) {
            if (!std::filesystem::is_directory(dir)) {
                throw Error(ErrorKind::InvalidArgument, fmt::format("--kb '{}': no such folder", dir));
            }
        }
    }

    kb::KnowledgeBase load() const {
        validate();
        std::vector<std::filesystem::path> dirs{kb::KnowledgeBase::shipped_dir()};
        dirs.insert(dirs.end(), overlays.begin(), overlays.end());
        return kb::KnowledgeBase::load(dirs);
    }
};

// Options of the subcommands that take condition names, which dataset labels may be.
struct NameOptions {
    KbOptions kb;
    std::string label_set;  // empty: resolve through every label set

    std::string resolve(const kb::KnowledgeBase & base, const std::string & name) const {
        return label_set.empty() ? base.resolve(name) : base.resolve(name, label_set);
    }
    std::optional<std::string_view> label_set_or_none() const {
        return label_set.empty() ? std::nullopt : std::optional<std::string_view>(label_set);
    }
};

void print_json(const ordered_json & value) {
    fmt::print("{}\n", value.dump(2));
}

std::string named(const kb::KnowledgeBase & base, const std::string & id) {
    return fmt::format("{} ({})", base.condition(id).name, id);
}

ordered_json optional_text(const std::optional<std::string> & text) {
    return text ? ordered_json(*text) : ordered_json(nullptr);
}

// --- check -------------------------------------------------------------------

int run_check(const KbOptions & options) {
    const kb::KnowledgeBase base = options.load();
    const auto problems = base.check();
    if (options.json) {
        ordered_json list = ordered_json::array();
        for (const auto & problem : problems) {
            list.push_back({{"file", problem.file.string()}, {"message", problem.message}});
        }
        print_json({{"ok", problems.empty()},
                    {"conditions", base.size()},
                    {"edges", base.edges().size()},
                    {"label_sets", base.label_set_names().size()},
                    {"problems", list}});
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
    return problems.empty() ? 0 : static_cast<int>(ErrorKind::InvalidInput);
}

// --- show --------------------------------------------------------------------

// Options of the subcommands about one condition (show, ddx).
struct ConditionOptions {
    NameOptions names;
    std::string name;
};

ordered_json description_json(const std::optional<kb::Description> & description) {
    if (!description) {
        return nullptr;
    }
    return {{"location", description->location},
            {"lesion_type", description->lesion_type},
            {"shape_border", description->shape_border},
            {"colour", description->colour},
            {"texture", description->texture}};
}

ordered_json show_json(const kb::KnowledgeBase & base, const std::string & id) {
    const kb::Condition & condition = base.condition(id);
    const auto malignancy = base.malignancy(id);
    ordered_json uses = ordered_json::array();
    for (const auto & use : base.label_uses(id)) {
        uses.push_back({{"label_set", use.label_set}, {"label", use.label}});
    }
    return {{"id", id},
            {"name", condition.name},
            {"synonyms", condition.synonyms},
            {"parent", optional_text(base.parent(id))},
            {"path_to_root", base.path_to_root(id)},
            {"depth", base.depth(id)},
            {"children", base.children(id)},
            {"malignancy", malignancy ? ordered_json(kb::malignancy_name(*malignancy)) : ordered_json(nullptr)},
            {"malignancy_inherited", malignancy.has_value() && !condition.malignancy.has_value()},
            {"description", description_json(condition.description)},
            {"ddx", base.neighbours(id)},
            {"label_sets", uses}};
}

std::string names_of(const kb::KnowledgeBase & base, const std::vector<std::string> & ids, std::string_view separator) {
    std::vector<std::string> names;
    for (const auto & id : ids) {
        names.push_back(base.condition(id).name);
    }
    return names.empty() ? "-" : fmt::format("{}", fmt::join(names, separator));
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
        print_json(show_json(base, id));
    } else {
        print_show(base, id);
    }
    return 0;
}

// --- labelset ----------------------------------------------------------------

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
        ordered_json labels = ordered_json::array();
        for (const auto & label : set.labels) {
            labels.push_back({{"label", label.label}, {"condition", label.condition},
                              {"name", base.condition(label.condition).name}});
        }
        print_json({{"name", set.name}, {"title", set.title}, {"source", set.source}, {"described", set.described},
                    {"labels", labels}});
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

// --- relation ----------------------------------------------------------------

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

// --- ddx ---------------------------------------------------------------------

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

// --- registration ------------------------------------------------------------

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

}  // namespace

void register_kb(CLI::App & root, std::vector<Command> & commands) {
    auto * kb = root.add_subcommand("kb", "Query and validate the clinical knowledge base (data/kb/)");
    kb->require_subcommand(1);

    auto check = std::make_shared<KbOptions>();
    auto * check_app = kb->add_subcommand("check", "Validate the knowledge base; list every problem (exit 3) or "
                                                   "print a summary");
    add_kb_options(*check_app, *check);
    commands.push_back({check_app, [check] { return run_check(*check); }});

    auto show = std::make_shared<ConditionOptions>();
    auto * show_app = kb->add_subcommand("show", "Show a condition: names, taxonomy path, malignancy, description, "
                                                 "DDx neighbours, label sets");
    show_app->add_option("name", show->name, "Condition id, name, synonym or dataset label")->required();
    add_name_options(*show_app, show->names);
    commands.push_back({show_app, [show] { return run_show(*show); }});

    auto label_set = std::make_shared<LabelSetOptions>();
    auto * label_set_app =
        kb->add_subcommand("labelset", "List the label sets, or show one: its labels in order and their conditions");
    label_set_app->add_option("name", label_set->name, "Label set name (e.g. ham10000)");
    add_kb_options(*label_set_app, label_set->kb);
    commands.push_back({label_set_app, [label_set] { return run_label_set(*label_set); }});

    auto relation = std::make_shared<RelationOptions>();
    auto * relation_app = kb->add_subcommand(
        "relation", "How a predicted diagnosis relates to the true one: exact, synonym, subclass, parent, sibling "
                    "or unrelated");
    relation_app->add_option("predicted", relation->predicted, "Predicted condition name")->required();
    relation_app->add_option("truth", relation->truth, "True condition name")->required();
    add_name_options(*relation_app, relation->names);
    commands.push_back({relation_app, [relation] { return run_relation(*relation); }});

    auto ddx = std::make_shared<ConditionOptions>();
    auto * ddx_app = kb->add_subcommand("ddx", "List a condition's differential-diagnosis neighbours");
    ddx_app->add_option("name", ddx->name, "Condition id, name, synonym or dataset label")->required();
    add_name_options(*ddx_app, ddx->names);
    commands.push_back({ddx_app, [ddx] { return run_ddx(*ddx); }});
}

}  // namespace dermlens::cli
