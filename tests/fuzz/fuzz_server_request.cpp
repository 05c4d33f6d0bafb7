// Harness: the HTTP server's request bodies (tools/server/request_parsing.h), read as the routes
// read them, without HTTP or a model: POST /v1/chat/completions's JSON (messages, content parts,
// image_url data URIs, sampling keys), POST /v1/diagnose's JSON body (image, heatmap, options) and
// its multipart form fields, the options then read by diagnose_request_from_json as the route
// does. The first byte picks the body; form fields are "name=content" parts separated by
// "--field--" ("name;filename=content" gives a file name).
#include "fuzz_support.h"

#include "dermlens/request_json.h"
#include "request_parsing.h"

namespace {

using namespace dermlens::server;

dermlens::DecodeLimits small_images() {
    dermlens::DecodeLimits limits;
    limits.max_file_bytes = 1 << 20;
    return limits;
}

std::vector<FormField> form_fields(std::string_view text) {
    std::vector<FormField> fields;
    for (const std::string_view part : dermlens::fuzz::split_parts(text, "--field--")) {
        const std::size_t equals = part.find('=');
        const std::string_view head = part.substr(0, equals);
        const std::size_t semicolon = head.find(';');
        FormField field{std::string(head.substr(0, semicolon)),
                        semicolon == std::string_view::npos ? "" : std::string(head.substr(semicolon + 1)),
                        equals == std::string_view::npos ? "" : std::string(part.substr(equals + 1))};
        fields.push_back(std::move(field));
    }
    return fields;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view body = dermlens::fuzz::as_text(data + 1, size - 1);
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        switch (data[0] % 3) {
            case 0: {
                const dermlens::GenerateRequest request = chat_request_from_json(body, small_images());
                request.validate();  // what it returns is a valid request
                break;
            }
            case 1: (void)dermlens::diagnose_request_from_json(diagnose_call_from_json(body, small_images()).options); break;
            default: (void)dermlens::diagnose_request_from_json(diagnose_call_from_form(form_fields(body), small_images()).options);
        }
    });
    return 0;
}
