// Optional clinical context for the prompt (--age --sex --site --history --fitzpatrick,
// or manifest columns): paper 004's benchmark-to-bedside gap is partly the context a
// clinician has and an image lacks.
#pragma once

#include "dermlens/diagnosis.h"

namespace dermlens::pipeline {

using ClinicalContext = dermlens::ClinicalContext;  // the public type (dermlens/diagnosis.h)

}  // namespace dermlens::pipeline
