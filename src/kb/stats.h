// Coverage of the knowledge base (`dermlens kb stats`): how many conditions, names, clinical
// codes, visual descriptions and DDx edges each top-level family of the taxonomy has, and how
// far each label set's conditions are described and linked in the DDx graph.
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <cstddef>
#include <string>
#include <vector>

namespace dermlens::kb {

struct FamilyStats {
    std::string id;                  // a child of the root; "total" for the whole knowledge base
    std::size_t conditions = 0;      // the family node and everything below it
    std::size_t synonyms = 0;        // names beyond the canonical one
    std::size_t icd11 = 0;           // conditions recording an ICD-11 code
    std::size_t icd11_broader = 0;   // of which a broader category (CodeMatch::Broader)
    std::size_t icd11_absent = 0;    // conditions recording why they have no ICD-11 code
    std::size_t icd10 = 0;           // conditions recording an ICD-10 code
    std::size_t icd10_broader = 0;   // of which a broader category
    std::size_t infectious = 0;      // conditions that are infectious (inherited or set)
    std::size_t with_malignancy = 0; // conditions with a malignancy class (inherited or set)
    std::size_t described = 0;       // conditions with the five visual criteria
    std::size_t ddx_edges = 0;       // edges with at least one end in the family (the total counts each once)
};

struct LabelSetStats {
    std::string name;
    std::size_t labels = 0;
    std::size_t described = 0;  // labels whose condition has a description
    std::size_t with_ddx = 0;   // labels whose condition has at least two DDx neighbours
    std::size_t coded = 0;      // labels whose condition records an ICD-11 or ICD-10 code
    std::size_t icd11 = 0;      // labels whose condition records an ICD-11 code
};

struct KbStats {
    FamilyStats total;
    std::vector<FamilyStats> families;    // the root's children, sorted by id
    std::vector<LabelSetStats> label_sets;  // sorted by name
};

// Throws Error(InvalidInput) for a knowledge base whose taxonomy is broken (see check()).
KbStats compute_stats(const KnowledgeBase & kb);

// The ids of the conditions that record neither an ICD-11 code nor why they have none
// (icd11_absent), sorted: the ones nobody has coded yet. `kb check` lists them.
std::vector<std::string> uncoded_conditions(const KnowledgeBase & kb);

}  // namespace dermlens::kb
