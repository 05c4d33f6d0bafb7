// Name resolution speed on the shipped knowledge base (docs/kb-cli.md): 100,000 names as models
// and datasets write them — canonical names, synonyms and dataset labels in varied case and
// punctuation, about half with one typo (a letter dropped, added, changed or two swapped) —
// resolved to condition ids. The target is under a second for all 100,000. Then 1,000 names it
// does not know, each answered with the closest known names: under a millisecond each.
//
//   cmake -B build -DDERMLENS_BENCH=ON && cmake --build build --target bench_resolve
//   ./build/bin/bench_resolve --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"

#include <benchmark/benchmark.h>

#include <cctype>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using dermlens::kb::KnowledgeBase;

constexpr std::size_t kNames = 100000;

const KnowledgeBase & shipped() {
    static const KnowledgeBase base = KnowledgeBase::load({KnowledgeBase::shipped_dir()});
    return base;
}

// One typo at a random place: 0 drop, 1 add, 2 change, 3 swap two neighbours.
std::string with_typo(std::string name, std::mt19937_64 & rng) {
    std::uniform_int_distribution<std::size_t> place(1, name.size() - 2);
    const std::size_t at = place(rng);
    switch (rng() % 4) {
        case 0: name.erase(at, 1); break;
        case 1: name.insert(at, 1, 'e'); break;
        case 2: name[at] = name[at] == 'a' ? 'o' : 'a'; break;
        default: std::swap(name[at], name[at + 1]); break;
    }
    return name;
}

std::string restyled(std::string name, std::mt19937_64 & rng) {
    switch (rng() % 3) {
        case 0: for (char & c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); break;
        case 1: name += "."; break;
        default: break;
    }
    return name;
}

bool resolves(const std::string & name) {
    try {
        shipped().resolve(name);
        return true;
    } catch (const dermlens::Error &) {
        return false;
    }
}

// kNames names that resolve, drawn with a fixed seed; typos that land nowhere (or on two
// conditions) are dropped before timing, since they are errors, not resolutions.
const std::vector<std::string> & queries() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> known;
        for (const std::string & id : shipped().condition_ids()) {
            const auto & condition = shipped().condition(id);
            known.push_back(condition.name);
            known.insert(known.end(), condition.synonyms.begin(), condition.synonyms.end());
        }
        std::mt19937_64 rng(7);
        std::vector<std::string> out;
        std::size_t typos = 0;
        while (out.size() < kNames) {
            std::string name = known[rng() % known.size()];
            if (name.size() >= 10 && rng() % 2 == 0) {
                name = with_typo(name, rng);
                if (!resolves(name)) {
                    continue;
                }
                ++typos;
            }
            out.push_back(restyled(name, rng));
        }
        return out;
    }();
    return names;
}

void BM_Resolve100k(benchmark::State & state) {
    const auto & names = queries();
    for (auto _ : state) {
        std::size_t resolved = 0;
        for (const std::string & name : names) {
            resolved += shipped().resolve(name).size() > 0 ? 1 : 0;
        }
        benchmark::DoNotOptimize(resolved);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * names.size()));
    state.counters["names"] = static_cast<double>(names.size());
}
BENCHMARK(BM_Resolve100k)->Unit(benchmark::kMillisecond)->Iterations(3);

// kUnknown names the knowledge base does not know, each answered with "did you mean" suggestions:
// known names with three typos (dropped before timing when they still resolve) and, one in ten,
// two known names run together. The target is under a millisecond per name.
constexpr std::size_t kUnknown = 1000;

const std::vector<std::string> & unknown_queries() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> known;
        for (const std::string & id : shipped().condition_ids()) {
            known.push_back(shipped().condition(id).name);
        }
        std::mt19937_64 rng(20);
        std::vector<std::string> out;
        while (out.size() < kUnknown) {
            std::string name = known[rng() % known.size()];
            if (rng() % 10 == 0) {
                name += " " + known[rng() % known.size()];
            } else if (name.size() >= 10) {
                for (int typo = 0; typo < 3; ++typo) {
                    name = with_typo(name, rng);
                }
            }
            if (!resolves(name)) {
                out.push_back(name);
            }
        }
        return out;
    }();
    return names;
}

void BM_ResolveUnknown(benchmark::State & state) {
    const auto & names = unknown_queries();
    for (auto _ : state) {
        std::size_t message_bytes = 0;
        for (const std::string & name : names) {
            try {
                shipped().resolve(name);
            } catch (const dermlens::Error & error) {
                message_bytes += std::string_view(error.what()).size();
            }
        }
        benchmark::DoNotOptimize(message_bytes);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * names.size()));
}
BENCHMARK(BM_ResolveUnknown)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
