// Which attention path, flash or plain, a graph runs on this machine: decided by measurement,
// remembered, reused.
//
// Flash attention (Dao et al., FlashAttention, 2022: the softmax computed in tiles, never the
// whole score matrix) is faster or slower on a CPU depending on its vector units and the
// shapes: the 896-px SigLIP encoder of Gemma 3 ran 2.7x slower with it on an AVX-512 machine
// and 1.6x faster on an AVX2 one. So `auto` times both paths (attention_bench.h) and keeps the
// faster, per (graph, CPU model and features, threads, model file, shape): a store in the cache
// folder remembers each decision, and any change of the key measures again. The timing source
// is a parameter, so the choice logic is tested with a stub.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dermlens::model {

// What a measured decision holds for: change any field and the decision is measured again.
struct AttentionKey {
    std::string graph;         // "vision" (the mmproj's encoder) or "text" (the text model's prefill)
    std::string cpu;           // CPU model name and ggml's CPU features (cpu_description())
    int threads = 0;
    std::string model_sha256;  // the mmproj (vision) or text model (text) file
    std::string shape;         // AttentionShape::describe()

    bool operator==(const AttentionKey &) const = default;
};

// One timing of one path: milliseconds for flash (true) or plain (false) attention.
using AttentionTimer = std::function<double(bool flash)>;

struct AttentionDecision {
    bool flash = false;
    bool remembered = false;  // read from the store; false: measured now
    double flash_ms = 0;      // median of the measured rounds
    double plain_ms = 0;
    std::vector<double> flash_rounds;  // each round's time (empty when remembered)
    std::vector<double> plain_rounds;
    std::string not_remembered;  // why the store could not keep a measured decision (empty: kept)

    // "on: flash 112.0 ms vs plain 305.0 ms per attention": the same for a decision measured
    // now and the same one remembered later (the report of a diagnosis does not change with it).
    std::string summary() const;
};

// Times both paths: one untimed warm-up each, then `rounds` rounds alternating which path goes
// first (so that a load change on a shared machine hits both alike); flash wins only when its
// median is strictly lower. Throws Error(InvalidArgument) when rounds < 1.
AttentionDecision measure_attention(const AttentionTimer & time_path, int rounds);

// The decisions remembered in one JSON file (the cache folder's attention-paths.json). The
// file is a cache: one that is missing, unreadable or not this format counts as empty and is
// rewritten on the next decision.
class AttentionStore {
public:
    explicit AttentionStore(std::filesystem::path file);

    std::optional<AttentionDecision> find(const AttentionKey & key) const;
    // Stores the decision for `key`, replacing any (written atomically under a lock file beside
    // the store; a failure to write is an Error naming the file).
    void remember(const AttentionKey & key, const AttentionDecision & decision) const;
    // Stores the decision unless one for `key` is there already, and returns the one stored:
    // processes measuring the same key at once all run the first one written.
    AttentionDecision remember_first(const AttentionKey & key, const AttentionDecision & decision) const;

    const std::filesystem::path & file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
};

// The remembered decision for `key`, or (none remembered) a measured one, remembered first-wins;
// `fresh`: measured, replacing what is remembered (`dermlens bench-cpu`). A store that cannot be
// written costs the next run a measurement, not this run its answer.
AttentionDecision choose_attention(const AttentionKey & key, const AttentionStore & store,
                                   const AttentionTimer & time_path, int rounds = 3, bool fresh = false);

}  // namespace dermlens::model
