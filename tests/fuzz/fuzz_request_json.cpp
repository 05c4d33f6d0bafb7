// Harness: the per-call options of a diagnosis as JSON (dermlens/request_json.h
// diagnose_request_from_json), what the server reads from a JSON body and from multipart form
// fields and the Python bindings from keywords: every key, a number or boolean given as text,
// ranges, names of strategies, styles and schemas, the attention layers "FIRST:LAST".
#include "fuzz_support.h"

#include "dermlens/request_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const auto options = nlohmann::json::parse(dermlens::fuzz::as_text(data, size), nullptr, /*allow_exceptions=*/false);
    if (options.is_discarded()) {
        return 0;  // the server refuses a body that is not JSON before this parser
    }
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const dermlens::DiagnoseRequest request = dermlens::diagnose_request_from_json(options);
        request.validate();  // what it returns is a valid request
    });
    return 0;
}
