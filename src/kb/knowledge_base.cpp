#include "dermlens/kb/knowledge_base.h"

#include "common/data_dir.h"
#include "dermlens/error.h"
#include "kb/kb_files.h"

#include <fmt/format.h>

#include <algorithm>

namespace dermlens::kb {
namespace {

namespace fs = std::filesystem;

// The *.json files of `dir` in file-name order; none when it does not exist.
std::vector<fs::path> json_files(const fs::path & dir) {
    std::vector<fs::path> files;
    if (!fs::is_directory(dir)) {
        return files;
    }
    for (const auto & entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::pair<std::string, std::string> edge_key(const DdxEdge & edge) {
    return std::minmax(edge.first, edge.second);
}

}  // namespace

KnowledgeBase KnowledgeBase::load(const std::vector<fs::path> & dirs) {
    KnowledgeBase kb;
    EdgeKeys edge_keys;
    for (const auto & dir : dirs) {
        kb.read_folder(dir, edge_keys);
    }
    kb.build_indexes();
    return kb;
}

fs::path KnowledgeBase::shipped_dir() {
    return data_dir() / "kb";
}

void KnowledgeBase::read_folder(const fs::path & dir, EdgeKeys & edge_keys) {
    if (!fs::is_directory(dir)) {
        throw Error(ErrorKind::InvalidInput, fmt::format("kb folder '{}': no such folder", dir.string()));
    }
    const auto condition_files = json_files(dir / "conditions");
    const auto label_set_files = json_files(dir / "labelsets");
    const fs::path ddx_file = dir / "ddx.json";
    if (condition_files.empty() && label_set_files.empty() && !fs::exists(ddx_file)) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("kb folder '{}': holds no conditions/*.json, ddx.json or labelsets/*.json",
                                dir.string()));
    }
    std::map<std::string, fs::path> ids_here;
    for (const auto & file : condition_files) {
        for (auto & condition : read_conditions_file(file)) {
            add_condition(std::move(condition), ids_here);
        }
    }
    if (fs::exists(ddx_file)) {
        std::map<std::pair<std::string, std::string>, std::size_t> in_file;
        for (auto & edge : read_ddx_file(ddx_file)) {
            add_edge(std::move(edge), edge_keys, in_file);
        }
    }
    std::set<std::string> label_sets_here;
    for (const auto & file : label_set_files) {
        add_label_set(read_label_set_file(file), label_sets_here);
    }
}

// A condition defined in an earlier folder is replaced as a whole; one defined
// twice in the same folder keeps its first definition and is a problem.
void KnowledgeBase::add_condition(Condition condition, std::map<std::string, fs::path> & defined_here) {
    const auto [first, inserted] = defined_here.emplace(condition.id, condition.file);
    if (!inserted) {
        load_problems_.push_back({condition.file, fmt::format("condition '{}' is defined twice in one folder "
                                                              "(first in '{}')",
                                                              condition.id, first->second.string())});
        return;
    }
    std::erase(load_order_, condition.id);
    load_order_.push_back(condition.id);
    const std::string id = condition.id;
    conditions_.insert_or_assign(id, std::move(condition));
}

// Overlays add edges; an edge already known from another file adds nothing, one
// listed twice in the same file is a problem.
void KnowledgeBase::add_edge(DdxEdge edge, EdgeKeys & edge_keys,
                             std::map<std::pair<std::string, std::string>, std::size_t> & in_file) {
    const auto key = edge_key(edge);
    if (const auto it = in_file.find(key); it != in_file.end()) {
        load_problems_.push_back({edge.file, fmt::format("edges[{}] ['{}', '{}'] repeats edges[{}]", edge.index,
                                                         edge.first, edge.second, it->second)});
        return;
    }
    in_file.emplace(key, edge.index);
    if (edge_keys.insert(key).second) {
        edges_.push_back(std::move(edge));
    }
}

void KnowledgeBase::add_label_set(LabelSet set, std::set<std::string> & defined_here) {
    if (set.file.stem().string() != set.name) {
        load_problems_.push_back(
            {set.file, fmt::format("label set name '{}' differs from its file name", set.name)});
    }
    if (!defined_here.insert(set.name).second) {
        load_problems_.push_back({set.file, fmt::format("label set '{}' is defined twice in one folder", set.name)});
        return;
    }
    const std::string name = set.name;
    label_sets_.insert_or_assign(name, std::move(set));
}

void KnowledgeBase::build_indexes() {
    index_taxonomy();
    index_neighbours();
    index_labels();
    index_codes();
}

void KnowledgeBase::index_taxonomy() {
    for (const auto & [id, condition] : conditions_) {
        if (!condition.parent.empty()) {
            children_[condition.parent].push_back(id);  // conditions_ is sorted, so each list is
        }
    }
    // In load order, so that a name claimed twice is reported against the later claim.
    for (const auto & id : load_order_) {
        const Condition & condition = conditions_.find(id)->second;
        names_.add(id, id);
        names_.add(condition.name, id);
        for (const auto & synonym : condition.synonyms) {
            names_.add(synonym, id);
        }
    }
}

// Edges whose ends both exist; the others are check()'s to report.
void KnowledgeBase::index_neighbours() {
    for (const auto & edge : edges_) {
        if (edge.first != edge.second && contains(edge.first) && contains(edge.second)) {
            neighbours_[edge.first].push_back(edge.second);
            neighbours_[edge.second].push_back(edge.first);
        }
    }
    for (auto & [id, list] : neighbours_) {
        std::sort(list.begin(), list.end());
    }
}

void KnowledgeBase::index_labels() {
    for (const auto & [name, set] : label_sets_) {
        NameIndex & own = set_labels_[name];
        for (const auto & label : set.labels) {
            own.add(label.label, label.condition);
            labels_.add(label.label, label.condition);
        }
    }
}

const Condition & KnowledgeBase::condition(std::string_view id) const {
    const auto it = conditions_.find(id);
    if (it == conditions_.end()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("unknown condition id '{}'", id));
    }
    return it->second;
}

std::vector<std::string> KnowledgeBase::condition_ids() const {
    std::vector<std::string> ids;
    for (const auto & [id, condition] : conditions_) {
        ids.push_back(id);
    }
    return ids;
}

std::vector<std::string> KnowledgeBase::label_set_names() const {
    std::vector<std::string> names;
    for (const auto & [name, set] : label_sets_) {
        names.push_back(name);
    }
    return names;
}

const LabelSet & KnowledgeBase::label_set(std::string_view name) const {
    const auto it = label_sets_.find(name);
    if (it == label_sets_.end()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("unknown label set '{}'; known: {}", name, fmt::join(label_set_names(), ", ")));
    }
    return it->second;
}

std::vector<LabelUse> KnowledgeBase::label_uses(std::string_view id) const {
    condition(id);  // refuses unknown ids
    std::vector<LabelUse> uses;
    for (const auto & [name, set] : label_sets_) {
        for (const auto & label : set.labels) {
            if (label.condition == id) {
                uses.push_back({name, label.label});
            }
        }
    }
    return uses;
}

bool KnowledgeBase::infectious(std::string_view id) const {
    for (const std::string & node : path_to_root(id)) {
        if (const auto & set = condition(node).infectious) {
            return *set;
        }
    }
    return false;
}

const std::vector<std::string> & KnowledgeBase::neighbours(std::string_view id) const {
    static const std::vector<std::string> none;
    condition(id);
    const auto it = neighbours_.find(id);
    return it == neighbours_.end() ? none : it->second;
}

}  // namespace dermlens::kb
