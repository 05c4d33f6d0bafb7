#include "model/testmodel.h"

#include "model/testmodel_archs.h"

#include "dermlens/error.h"

#include "llama.h"

#include <fmt/format.h>

#include <array>
#include <system_error>

namespace dermlens::testmodel {

namespace {

struct ArchName {
    Arch arch;
    std::string_view name;
};

constexpr std::array<ArchName, 3> kArchNames{{
    {Arch::Gemma3, "gemma3"},
    {Arch::Qwen2VL, "qwen2vl"},
    {Arch::Llava, "llava"},
}};

// Real-size presets and the one architecture each describes; "tiny" fits all.
struct PresetArch {
    std::string_view preset;
    Arch arch;
};

constexpr std::array<PresetArch, 2> kRealPresets{{
    {"gemma3-4b", Arch::Gemma3},
    {"qwen2.5-vl-7b", Arch::Qwen2VL},
}};

constexpr std::string_view kQuantizedTextType = "q4_k_m";

bool is_direct_type(std::string_view type) { return type == "f32" || type == "f16" || type == "q8_0"; }

void validate_preset(const Options & options) {
    if (options.preset == "tiny") {
        return;
    }
    for (const auto & entry : kRealPresets) {
        if (entry.preset != options.preset) {
            continue;
        }
        if (entry.arch != options.arch) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("preset '{}' is for arch {}, not {}", options.preset,
                                    arch_name(entry.arch), arch_name(options.arch)),
                        "preset");
        }
        return;
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("preset '{}': unknown preset (valid: tiny, gemma3-4b, qwen2.5-vl-7b)", options.preset),
                "preset");
}

Files generate(const Options & options) {
    switch (options.arch) {
        case Arch::Gemma3: return make_gemma3(options);
        case Arch::Llava: return make_llava(options);
        case Arch::Qwen2VL: return make_qwen2vl(options);
    }
    throw Error(ErrorKind::InvalidArgument, "test model: unknown architecture");
}

void make_directory(const std::filesystem::path & dir) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
        throw Error(ErrorKind::Runtime, fmt::format("cannot create '{}': {}", dir.string(), error.message()));
    }
}

void quantize_q4_k_m(const std::filesystem::path & input, const std::filesystem::path & output) {
    llama_backend_init();
    llama_model_quantize_params params = llama_model_quantize_default_params();
    params.ftype = LLAMA_FTYPE_MOSTLY_Q4_K_M;
    params.nthread = 0;  // all cores
    if (llama_model_quantize(input.c_str(), output.c_str(), &params) != 0) {
        throw Error(ErrorKind::Runtime,
                    fmt::format("quantizing '{}' to q4_k_m as '{}' failed", input.string(), output.string()));
    }
}

// Removes the f16 staging folder however generation ends.
class StagingDir {
public:
    explicit StagingDir(std::filesystem::path path) : path_(std::move(path)) { make_directory(path_); }
    StagingDir(const StagingDir &) = delete;
    StagingDir & operator=(const StagingDir &) = delete;
    ~StagingDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path & path() const { return path_; }

private:
    std::filesystem::path path_;
};

// q4_k_m needs llama.cpp's mixed-precision recipe: write f16, then quantize with libllama.
Files generate_q4_k_m(const Options & options) {
    StagingDir staging(options.out_dir / ".f16-staging");
    Options f16 = options;
    f16.text_type = "f16";
    f16.out_dir = staging.path();
    const Files staged = generate(f16);

    Files files{options.out_dir / kModelFileName, options.out_dir / kMmprojFileName};
    quantize_q4_k_m(staged.model, files.model);
    std::error_code error;
    std::filesystem::rename(staged.mmproj, files.mmproj, error);
    if (error) {
        throw Error(ErrorKind::Runtime, fmt::format("cannot move '{}' to '{}': {}", staged.mmproj.string(),
                                                    files.mmproj.string(), error.message()));
    }
    return files;
}

}  // namespace

void Options::validate() const {
    if (out_dir.empty()) {
        throw Error(ErrorKind::InvalidArgument, "out_dir: an output folder is required", "out_dir");
    }
    validate_preset(*this);
    if (!is_direct_type(text_type) && text_type != kQuantizedTextType) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("text_type '{}': unknown tensor type (valid: f32, f16, q8_0, q4_k_m)", text_type),
                    "text_type");
    }
    if (!is_direct_type(mmproj_type)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("mmproj_type '{}': unknown tensor type (valid: f32, f16, q8_0)", mmproj_type),
                    "mmproj_type");
    }
}

Files make_test_model(const Options & options) {
    options.validate();
    make_directory(options.out_dir);
    if (options.text_type == kQuantizedTextType) {
        return generate_q4_k_m(options);
    }
    return generate(options);
}

Arch parse_arch(std::string_view name) {
    for (const auto & entry : kArchNames) {
        if (entry.name == name) {
            return entry.arch;
        }
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("arch '{}': unknown architecture (valid: gemma3, qwen2vl, llava)", name), "arch");
}

std::string_view arch_name(Arch arch) {
    for (const auto & entry : kArchNames) {
        if (entry.arch == arch) {
            return entry.name;
        }
    }
    return "unknown";
}

}  // namespace dermlens::testmodel
