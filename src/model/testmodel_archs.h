// Internal: one generator per architecture, called by make_test_model() after
// Options::validate() and with out_dir created. Each writes
// out_dir/model.gguf (text model) and out_dir/mmproj.gguf (projector) with
// GgufWriter (testmodel_writer.h) and returns their paths. It honours
// options.preset (throwing Error(InvalidArgument) for a preset it does not
// know), seed, text_type and mmproj_type; text_type is only ever f32, f16 or
// q8_0 here: for q4_k_m the dispatcher asks for f16 and quantizes afterwards.
#pragma once

#include "model/testmodel.h"

namespace dermlens::testmodel {

Files make_gemma3(const Options & options);   // testmodel_gemma3.cpp
Files make_llava(const Options & options);    // testmodel_llava.cpp
Files make_qwen2vl(const Options & options);  // testmodel_qwen2vl.cpp

// File names every generator uses inside out_dir.
inline constexpr const char * kModelFileName = "model.gguf";
inline constexpr const char * kMmprojFileName = "mmproj.gguf";

}  // namespace dermlens::testmodel
