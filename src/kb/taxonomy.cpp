// KnowledgeBase's taxonomy queries and the malignancy that inherits down the tree.
#include "dermlens/kb/knowledge_base.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

namespace dermlens::kb {

const Condition & KnowledgeBase::checked_parent(const Condition & child) const {
    const auto it = conditions_.find(child.parent);
    if (it == conditions_.end()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("condition '{}' ({}): parent '{}' is not a condition",
                                                         child.id, child.file.string(), child.parent));
    }
    return it->second;
}

std::optional<std::string> KnowledgeBase::parent(std::string_view id) const {
    const Condition & node = condition(id);
    if (node.parent.empty()) {
        return std::nullopt;
    }
    return checked_parent(node).id;
}

std::vector<std::string> KnowledgeBase::ancestors(std::string_view id) const {
    std::vector<std::string> chain;
    const Condition * node = &condition(id);
    while (!node->parent.empty()) {
        // A chain longer than the whole taxonomy must revisit a node.
        if (chain.size() == conditions_.size()) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("condition '{}': its chain of parents loops (see dermlens kb check)", id));
        }
        node = &checked_parent(*node);
        chain.push_back(node->id);
    }
    return chain;
}

std::vector<std::string> KnowledgeBase::path_to_root(std::string_view id) const {
    std::vector<std::string> path{condition(id).id};
    const auto above = ancestors(id);
    path.insert(path.end(), above.begin(), above.end());
    return path;
}

std::size_t KnowledgeBase::depth(std::string_view id) const {
    return ancestors(id).size();
}

const std::vector<std::string> & KnowledgeBase::children(std::string_view id) const {
    static const std::vector<std::string> none;
    condition(id);  // refuses unknown ids
    const auto it = children_.find(id);
    return it == children_.end() ? none : it->second;
}

std::vector<std::string> KnowledgeBase::descendants(std::string_view id) const {
    std::vector<std::string> found;
    std::set<std::string, std::less<>> seen{std::string(id)};  // guards against parent cycles
    std::deque<std::string_view> queue{children(id).begin(), children(id).end()};
    while (!queue.empty()) {
        const std::string_view next = queue.front();
        queue.pop_front();
        if (!seen.insert(std::string(next)).second) {
            continue;
        }
        found.emplace_back(next);
        const auto & below = children(next);
        queue.insert(queue.end(), below.begin(), below.end());
    }
    return found;
}

std::vector<std::string> KnowledgeBase::siblings(std::string_view id) const {
    const auto above = parent(id);
    if (!above) {
        return {};
    }
    std::vector<std::string> others = children(*above);
    std::erase(others, id);
    return others;
}

bool KnowledgeBase::is_ancestor(std::string_view ancestor, std::string_view id) const {
    condition(ancestor);
    const auto chain = ancestors(id);
    return std::find(chain.begin(), chain.end(), ancestor) != chain.end();
}

std::string KnowledgeBase::lowest_common_ancestor(std::string_view a, std::string_view b) const {
    const auto path_a = path_to_root(a);
    for (const auto & node : path_to_root(b)) {
        if (std::find(path_a.begin(), path_a.end(), node) != path_a.end()) {
            return node;
        }
    }
    throw Error(ErrorKind::InvalidInput,
                fmt::format("conditions '{}' and '{}' share no ancestor: the taxonomy has several roots "
                            "(see dermlens kb check)",
                            a, b));
}

std::vector<std::string> KnowledgeBase::leaves() const {
    std::vector<std::string> found;
    for (const auto & [id, condition] : conditions_) {
        if (!children_.contains(id)) {
            found.push_back(id);
        }
    }
    return found;
}

std::optional<Malignancy> KnowledgeBase::malignancy(std::string_view id) const {
    for (const auto & node : path_to_root(id)) {
        if (const auto set = conditions_.find(node)->second.malignancy) {
            return set;
        }
    }
    return std::nullopt;
}

}  // namespace dermlens::kb
