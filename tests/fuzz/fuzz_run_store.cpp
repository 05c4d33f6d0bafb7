// Harness: reading an existing run folder's store (src/eval/run_store.h RunStore::open), as
// `eval --resume`, reports and `eval merge` do: the SQLite file itself, its application id
// and schema version, the stored settings, every sample's JSON, the recorded shard plan.
// The input is the store file's bytes (the seeds are real stores).
#include "fuzz_support.h"

#include "eval/run_store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    dermlens::fuzz::clear_scratch();
    const auto path = dermlens::fuzz::write_scratch("run/run.sqlite", dermlens::fuzz::as_text(data, size));
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto store = dermlens::eval::RunStore::open(path);
        const auto samples = store.samples();
        if (samples.size() != store.size()) {
            std::abort();
        }
        for (const auto & sample : samples) {
            (void)store.contains(sample.key);
        }
        (void)store.plan();
        (void)store.settings().dump();
    });
    return 0;
}
