// The clinical knowledge base: the taxonomy of conditions (one tree), their names,
// malignancy and visual descriptions, the differential-diagnosis (DDx) graph and the
// datasets' label sets, read from data/kb/ and any --kb overlays (docs/kb-schema.md).
//
// load() refuses files that are malformed on their own (Error(InvalidInput) naming
// the file and the JSON location). Problems of how the records fit together —
// cycles, dangling ids, names claimed twice, incomplete label sets — are collected
// by check() instead, so that `dermlens kb check` can list them all; queries on a
// knowledge base with problems may throw Error(InvalidInput).
//
// Queries take condition ids and throw Error(InvalidArgument) for an unknown one;
// resolve() turns any name a person or a dataset uses into an id.
#pragma once

#include "dermlens/kb/condition.h"
#include "dermlens/kb/name_index.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dermlens::kb {

// A label of a label set that maps to a given condition.
struct LabelUse {
    std::string label_set;
    std::string label;
};

class KnowledgeBase {
public:
    // Reads each folder in order — the shipped one first, then the overlays — with the
    // override rules of docs/kb-schema.md.
    static KnowledgeBase load(const std::vector<std::filesystem::path> & dirs);
    // <data_dir()>/kb: the knowledge base dermlens ships.
    static std::filesystem::path shipped_dir();

    // Every problem of how the records fit together, in a stable order; empty when sound.
    std::vector<Problem> check() const;

    // Contents.
    std::size_t size() const { return conditions_.size(); }
    bool contains(std::string_view id) const { return conditions_.contains(id); }
    const Condition & condition(std::string_view id) const;
    std::vector<std::string> condition_ids() const;  // sorted
    const std::vector<DdxEdge> & edges() const { return edges_; }  // distinct, in file order
    std::vector<std::string> label_set_names() const;  // sorted
    const LabelSet & label_set(std::string_view name) const;
    std::vector<LabelUse> label_uses(std::string_view id) const;  // by label set name

    // Names: ids, canonical names and synonyms, normalised for case, punctuation,
    // plurals and British spelling; then the labels of every label set when they
    // agree on one condition; then a clinical code (find_code); then, for names of
    // kTypoMinLength characters or more, the one condition whose name is a single typo
    // away (a letter added, dropped, changed or two swapped). Unknown names throw
    // Error(InvalidArgument) with the closest known names.
    std::string resolve(std::string_view name) const;
    // As resolve(name), trying the labels of `label_set` first.
    std::string resolve(std::string_view name, std::string_view label_set) const;
    // As resolve(), but std::nullopt for a name resolve() calls unknown, without working out the
    // closest names for the message: cheap on the many unknown names a model writes (rewards,
    // grading). Ambiguous names, names without letters and unknown label sets still throw.
    std::optional<std::string> find(std::string_view name) const;
    std::optional<std::string> find(std::string_view name, std::string_view label_set) const;

    // The condition a clinical code identifies: "2C30" or "ICD11:2C30" (ICD-11), "C43" or
    // "ICD10:C43" (ICD-10): the one recording it as exact, else the only one recording it;
    // std::nullopt when no condition records it. A broader code that several conditions share
    // and none records as exact throws Error(InvalidArgument) naming them.
    std::optional<std::string> find_code(std::string_view code) const;

    // Taxonomy.
    std::optional<std::string> parent(std::string_view id) const;  // std::nullopt for the root
    std::vector<std::string> ancestors(std::string_view id) const;  // parent first, root last
    std::vector<std::string> path_to_root(std::string_view id) const;  // id, then its ancestors
    std::size_t depth(std::string_view id) const;  // the root is 0
    const std::vector<std::string> & children(std::string_view id) const;  // sorted
    std::vector<std::string> descendants(std::string_view id) const;  // breadth-first, children sorted
    std::vector<std::string> siblings(std::string_view id) const;  // sorted
    bool is_ancestor(std::string_view ancestor, std::string_view id) const;  // strict
    std::string lowest_common_ancestor(std::string_view a, std::string_view b) const;
    std::vector<std::string> leaves() const;  // sorted

    // The malignancy set on the node or, failing that, on its nearest ancestor that sets one.
    std::optional<Malignancy> malignancy(std::string_view id) const;

    // Whether the condition is an infection or infestation: set on the node or, failing that,
    // on its nearest ancestor that sets it; false when none does.
    bool infectious(std::string_view id) const;

    // DDx neighbours (edges to conditions that exist), sorted.
    const std::vector<std::string> & neighbours(std::string_view id) const;

private:
    using EdgeKeys = std::set<std::pair<std::string, std::string>>;

    void read_folder(const std::filesystem::path & dir, EdgeKeys & edge_keys);
    void add_condition(Condition condition, std::map<std::string, std::filesystem::path> & defined_here);
    void add_edge(DdxEdge edge, EdgeKeys & edge_keys,
                  std::map<std::pair<std::string, std::string>, std::size_t> & in_file);
    void add_label_set(LabelSet set, std::set<std::string> & defined_here);
    void build_indexes();
    void index_taxonomy();
    void index_neighbours();
    void index_labels();
    void index_codes();
    std::string code_owner(std::string_view key, const std::vector<std::string> & ids) const;  // codes.cpp

    const Condition & checked_parent(const Condition & child) const;
    std::string suggestions(const std::string & key) const;

    // check() parts (check.cpp).
    void check_roots(std::vector<Problem> & problems) const;
    void check_parents(std::vector<Problem> & problems) const;
    void check_id_spelling(std::vector<Problem> & problems) const;
    void check_names(std::vector<Problem> & problems) const;
    void check_codes(std::vector<Problem> & problems) const;
    bool is_ancestor_if_known(std::string_view ancestor, std::string_view id) const;
    void check_edges(std::vector<Problem> & problems) const;
    void check_described_neighbours(std::vector<Problem> & problems) const;
    void check_label_set(const LabelSet & set, std::vector<Problem> & problems) const;

    std::map<std::string, Condition, std::less<>> conditions_;
    std::vector<std::string> load_order_;  // ids by when their current definition was read
    std::vector<DdxEdge> edges_;
    std::map<std::string, LabelSet, std::less<>> label_sets_;
    std::vector<Problem> load_problems_;  // ids or label sets defined twice in one folder, ...

    std::map<std::string, std::vector<std::string>, std::less<>> children_;
    std::map<std::string, std::vector<std::string>, std::less<>> neighbours_;
    std::map<std::string, std::vector<std::string>, std::less<>> codes_;  // "ICD11:2C30" -> ids, exact first
    NameIndex names_;                                        // ids, names, synonyms
    NameIndex labels_;                                       // every label set's labels
    std::map<std::string, NameIndex, std::less<>> set_labels_;  // one label set's labels
};

}  // namespace dermlens::kb
