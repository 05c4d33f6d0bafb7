// The clinical knowledge base (docs/kb-schema.md), model-free: conditions with their names,
// synonyms, codes, taxonomy, malignancy and descriptions, dataset label sets, the graded
// relation of two names (paper 003's grading) and the differential-diagnosis graph.
#pragma once

#include "dermlens/kb/condition.h"
#include "dermlens/kb/ddx.h"
#include "dermlens/kb/knowledge_base.h"
#include "dermlens/kb/relation.h"
