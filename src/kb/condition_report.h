// Everything the knowledge base knows about one condition as one JSON object: what
// `dermlens kb show --json` prints and `dermlens.kb.KnowledgeBase.show()` returns (docs/kb-cli.md).
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace dermlens::kb {

// id, name, synonyms, parent, path_to_root, depth, children, malignancy (inherited or not),
// infectious, ICD-11 and ICD-10 codes, description, DDx neighbours and the label sets using it.
// Throws Error(InvalidArgument) for an unknown id.
nlohmann::ordered_json condition_report(const KnowledgeBase & base, std::string_view id);

}  // namespace dermlens::kb
