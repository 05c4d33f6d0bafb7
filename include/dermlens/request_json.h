// dermlens::diagnose_request_from_json — the per-call options of a diagnosis as one JSON object,
// the form every front end that receives options as data uses (the HTTP server's JSON body and
// its multipart form fields, the Python bindings' keywords): one parser, so that the same
// option is spelt, typed and refused the same way everywhere (docs/server.md, "Options").
//
// Keys (all optional): labels (array of names, or one comma-separated string), label_set,
// strategy, style, schema, decide, candidates, top_k, alpha, not_sure, abstain_below,
// shuffle_options, seed, temperature, max_tokens; the clinical context age, sex, site, history,
// fitzpatrick; attention (bool), attention_layers ("FIRST:LAST"), attention_reduce. A number or
// a boolean may also come as its text ("5", "true"), since form fields are text.
#pragma once

#include "dermlens/engine.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace dermlens {

// The request of `options`, validated (DiagnoseRequest::validate). Throws Error(InvalidArgument)
// naming the key: an unknown key, a value of the wrong type or out of range, a bad name.
DiagnoseRequest diagnose_request_from_json(const nlohmann::json & options);

// The keys diagnose_request_from_json() reads, in the order above.
const std::vector<std::string> & diagnose_request_keys();

}  // namespace dermlens
