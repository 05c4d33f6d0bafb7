// The knowledge base's answers as JSON, one shape for every front end: `dermlens kb show --json`
// and the server's GET /v1/kb/conditions/{name}, `dermlens kb labelset --json` and
// GET /v1/kb/labelsets/{name} (docs/kb-schema.md).
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <nlohmann/json.hpp>

#include <string>

namespace dermlens::kb {

// One condition (an id): names, taxonomy, malignancy, codes, description, DDx neighbours, label sets.
nlohmann::ordered_json condition_json(const KnowledgeBase & base, const std::string & id);

// One label set: name, title, source, whether described, its labels with their conditions.
nlohmann::ordered_json label_set_json(const KnowledgeBase & base, const LabelSet & set);

}  // namespace dermlens::kb
