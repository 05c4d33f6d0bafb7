// dermlens.kb: the clinical knowledge base (docs/kb-schema.md, docs/kb-cli.md) — show, resolve,
// relation, label sets, DDx neighbours with ResolveDDXNeighbor (paper 002): the answers of
// `dermlens kb ... --json`.
#include "bindings.h"

#include "dermlens/error.h"
#include "dermlens/kb.h"
#include "kb/condition_report.h"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::python {
namespace {

kb::KnowledgeBase load_kb(const std::vector<std::filesystem::path> & overlays) {
    std::vector<std::filesystem::path> dirs{kb::KnowledgeBase::shipped_dir()};
    for (const auto & dir : overlays) {
        if (!std::filesystem::is_directory(dir)) {
            throw Error(ErrorKind::InvalidArgument, "overlays: '" + dir.string() + "': no such folder", "overlays");
        }
        dirs.push_back(dir);
    }
    const py::gil_scoped_release release;
    return kb::KnowledgeBase::load(dirs);
}

std::string resolve(const kb::KnowledgeBase & base, const std::string & name, const std::optional<std::string> & set) {
    return set ? base.resolve(name, *set) : base.resolve(name);
}

py::dict relation_of(const kb::KnowledgeBase & base, const std::string & predicted, const std::string & truth,
                     const std::optional<std::string> & label_set) {
    const kb::Relation relation =
        kb::relation(base, predicted, truth,
                     label_set ? std::optional<std::string_view>(*label_set) : std::optional<std::string_view>());
    py::dict out;
    out["predicted"] = relation.predicted;
    out["truth"] = relation.truth;
    out["relation"] = std::string(kb::relation_name(relation.kind));
    out["levels"] = relation.levels;
    return out;
}

py::dict label_set_of(const kb::KnowledgeBase & base, const std::string & name) {
    const kb::LabelSet & set = base.label_set(name);
    py::list labels;
    for (const kb::Label & label : set.labels) {
        labels.append(py::dict(py::arg("label") = label.label, py::arg("condition") = label.condition));
    }
    py::dict out;
    out["name"] = set.name;
    out["title"] = set.title;
    out["source"] = set.source;
    out["labels"] = labels;
    return out;
}

}  // namespace

void register_kb(py::module_ & module) {
    py::module_ kb_module = module.def_submodule("kb", "The clinical knowledge base (docs/kb-schema.md).");
    py::class_<kb::KnowledgeBase>(kb_module, "KnowledgeBase",
                                  "The taxonomy of conditions, their names, malignancy and descriptions, the DDx "
                                  "graph and the datasets' label sets. Names may be ids, names, synonyms, dataset "
                                  "labels or clinical codes; an unknown one raises dermlens.InvalidArgument with the "
                                  "closest known names.")
        .def("__len__", &kb::KnowledgeBase::size, "The number of conditions.")
        .def("__contains__", &kb::KnowledgeBase::contains, py::arg("id"), "Whether `id` is a condition id.")
        .def("resolve", &resolve, py::arg("name"), py::arg("label_set") = py::none(),
             "The condition id `name` stands for (through `label_set`'s labels first when given).")
        .def(
            "show",
            [](const kb::KnowledgeBase & base, const std::string & name, const std::optional<std::string> & set) {
                return to_python(kb::condition_report(base, resolve(base, name, set)));
            },
            py::arg("name"), py::arg("label_set") = py::none(),
            "Everything about one condition, as `dermlens kb show --json` prints it: names, taxonomy path, "
            "malignancy, infectious, ICD codes, description, DDx neighbours, label sets.")
        .def("relation", &relation_of, py::arg("predicted"), py::arg("truth"), py::arg("label_set") = py::none(),
             "How `predicted` relates to `truth` in the taxonomy (paper 003): {predicted, truth, relation "
             "(exact | synonym | subclass | parent | sibling | unrelated), levels}.")
        .def("label_sets", &kb::KnowledgeBase::label_set_names, "The names of the label sets, sorted.")
        .def("label_set", &label_set_of, py::arg("name"),
             "One label set: {name, title, source, labels: [{label, condition}]} in the dataset's class order.")
        .def(
            "ddx",
            [](const kb::KnowledgeBase & base, const std::string & name, const std::optional<std::string> & set) {
                return base.neighbours(resolve(base, name, set));
            },
            py::arg("name"), py::arg("label_set") = py::none(), "The DDx neighbours of a condition (ids, sorted).")
        .def(
            "resolve_ddx_neighbor",
            [](const kb::KnowledgeBase & base, const std::string & name, const std::vector<std::string> & with_cases) {
                return kb::resolve_ddx_neighbor(base, resolve(base, name, std::nullopt),
                                                kb::ConditionSet(with_cases.begin(), with_cases.end()));
            },
            py::arg("name"), py::arg("with_cases"),
            "ResolveDDXNeighbor (paper 002, algorithm 4): a differential to pair with `name` among the condition "
            "ids `with_cases`, falling back to the taxonomy; None when there is none.")
        .def("condition_ids", &kb::KnowledgeBase::condition_ids, "Every condition id, sorted.")
        .def("parent", &kb::KnowledgeBase::parent, py::arg("id"), "The parent id, or None for the root.")
        .def("ancestors", &kb::KnowledgeBase::ancestors, py::arg("id"), "Parent first, root last.")
        .def("path_to_root", &kb::KnowledgeBase::path_to_root, py::arg("id"), "The id, then its ancestors.")
        .def("children", &kb::KnowledgeBase::children, py::arg("id"), "The children ids, sorted.")
        .def("descendants", &kb::KnowledgeBase::descendants, py::arg("id"), "Breadth-first, children sorted.")
        .def(
            "malignancy",
            [](const kb::KnowledgeBase & base, const std::string & id) -> std::optional<std::string> {
                const auto malignancy = base.malignancy(id);
                return malignancy ? std::optional<std::string>(kb::malignancy_name(*malignancy)) : std::nullopt;
            },
            py::arg("id"), "benign | malignant | precancerous, inherited from the nearest ancestor; None if unset.")
        .def(
            "check",
            [](const kb::KnowledgeBase & base) {
                std::vector<std::string> problems;
                for (const kb::Problem & problem : base.check()) {
                    problems.push_back(problem.to_string());
                }
                return problems;
            },
            "Every problem of how the records fit together (empty when sound), as `dermlens kb check` lists them.");
    kb_module.def("load", &load_kb, py::arg("overlays") = std::vector<std::filesystem::path>{},
                  "The shipped knowledge base (in the data folder), then each overlay folder in order.");
}

}  // namespace dermlens::python
