// `auto` flash attention: the faster path wins under a stubbed timing source (rounds
// alternated, medians compared), a decision is remembered in the store and reused, and
// measured again when the CPU, the threads, the model file or the shape change; an unreadable
// store is an empty one. The real timing source runs both paths at a small shape.
#include "model/attention_bench.h"
#include "model/attention_choice.h"
#include "support/expect_error.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <vector>

namespace {

using dermlens::model::AttentionDecision;
using dermlens::model::AttentionKey;
using dermlens::model::AttentionShape;
using dermlens::model::AttentionStore;
using dermlens::model::choose_attention;
using dermlens::model::measure_attention;

// A timing source with a fixed time per path that records the order it was asked in.
struct StubTimer {
    double flash_ms = 0;
    double plain_ms = 0;
    std::vector<bool> calls;

    dermlens::model::AttentionTimer timer() {
        return [this](bool flash) {
            calls.push_back(flash);
            return flash ? flash_ms : plain_ms;
        };
    }
};

AttentionKey key() {
    return {"vision", "Test CPU | AVX2 FMA", 2, "ab12", "vision 4096x4096 tokens, 4 of 16 heads x 72"};
}

TEST(AttentionChoice, PicksTheFasterPath) {
    StubTimer faster_flash{10, 25, {}};
    const AttentionDecision flash = measure_attention(faster_flash.timer(), 3);
    EXPECT_TRUE(flash.flash);
    EXPECT_FALSE(flash.remembered);
    EXPECT_DOUBLE_EQ(flash.flash_ms, 10);
    EXPECT_DOUBLE_EQ(flash.plain_ms, 25);

    StubTimer faster_plain{40, 25, {}};
    EXPECT_FALSE(measure_attention(faster_plain.timer(), 3).flash);
    StubTimer tie{25, 25, {}};
    EXPECT_FALSE(measure_attention(tie.timer(), 3).flash) << "flash only when strictly faster";
}

TEST(AttentionChoice, AlternatesRoundsAfterAWarmUpAndComparesMedians) {
    std::vector<double> flash_times{999, 30, 11, 12};  // warm-up, then rounds
    std::vector<double> plain_times{999, 20, 500, 21};
    std::vector<bool> order;
    std::size_t f = 0;
    std::size_t p = 0;
    const AttentionDecision decision = measure_attention(
        [&](bool flash) {
            order.push_back(flash);
            return flash ? flash_times.at(f++) : plain_times.at(p++);
        },
        3);
    EXPECT_EQ(order, (std::vector<bool>{true, false, true, false, false, true, true, false}));
    EXPECT_EQ(decision.flash_rounds, (std::vector<double>{30, 11, 12}));
    EXPECT_EQ(decision.plain_rounds, (std::vector<double>{20, 500, 21}));
    EXPECT_DOUBLE_EQ(decision.flash_ms, 12);  // medians: one slow round does not decide
    EXPECT_DOUBLE_EQ(decision.plain_ms, 21);
    EXPECT_TRUE(decision.flash);
    EXPECT_EQ(decision.summary(), "on: flash 12.0 ms vs plain 21.0 ms per attention");
}

TEST(AttentionChoice, RefusesNoRounds) {
    StubTimer stub{1, 2, {}};
    dermlens::test::expect_error([&] { measure_attention(stub.timer(), 0); }, dermlens::ErrorKind::InvalidArgument,
                                 {"rounds"});
}

TEST(AttentionChoice, RemembersAndReusesTheDecision) {
    dermlens::test::TempDir dir("attention_choice");
    const AttentionStore store(dir.path() / "sub" / "attention-paths.json");
    StubTimer stub{10, 25, {}};
    const AttentionDecision first = choose_attention(key(), store, stub.timer());
    EXPECT_FALSE(first.remembered);
    EXPECT_FALSE(stub.calls.empty());

    stub.calls.clear();
    stub.flash_ms = 100;  // the machine changed its mind, but the key did not change: reused
    const AttentionDecision again = choose_attention(key(), store, stub.timer());
    EXPECT_TRUE(stub.calls.empty()) << "a remembered decision is not measured again";
    EXPECT_TRUE(again.remembered);
    EXPECT_TRUE(again.flash);
    EXPECT_DOUBLE_EQ(again.flash_ms, 10);
    EXPECT_DOUBLE_EQ(again.plain_ms, 25);
    EXPECT_EQ(again.summary(), first.summary()) << "a report does not change when its decision is remembered";

    const AttentionDecision fresh = choose_attention(key(), store, stub.timer(), 3, /*fresh=*/true);
    EXPECT_FALSE(stub.calls.empty());
    EXPECT_FALSE(fresh.flash);
    EXPECT_FALSE(store.find(key())->flash) << "a fresh measurement replaces the remembered one";
}

TEST(AttentionChoice, TheFirstDecisionWrittenWins) {
    dermlens::test::TempDir dir("attention_choice");
    const AttentionStore store(dir.path() / "attention-paths.json");
    AttentionDecision first;
    first.flash = true;
    first.flash_ms = 10;
    first.plain_ms = 20;
    AttentionDecision second = first;
    second.flash = false;
    second.flash_ms = 30;
    EXPECT_TRUE(store.remember_first(key(), first).flash);
    // Another process that measured the same key meanwhile runs the decision already stored.
    const AttentionDecision kept = store.remember_first(key(), second);
    EXPECT_TRUE(kept.flash);
    EXPECT_TRUE(kept.remembered);
    EXPECT_DOUBLE_EQ(kept.flash_ms, 10);
    store.remember(key(), second);  // bench-cpu: a fresh measurement replaces it
    EXPECT_FALSE(store.find(key())->flash);
}

TEST(AttentionChoice, AStoreThatCannotBeWrittenStillAnswers) {
    dermlens::test::TempDir dir("attention_choice");
    dermlens::test::write_file(dir.path() / "file", "not a folder");
    const AttentionStore store(dir.path() / "file" / "attention-paths.json");
    StubTimer stub{10, 25, {}};
    const AttentionDecision decision = choose_attention(key(), store, stub.timer());
    EXPECT_TRUE(decision.flash);
    EXPECT_FALSE(decision.not_remembered.empty());
    EXPECT_NE(decision.summary().find("not remembered"), std::string::npos) << decision.summary();
}

TEST(AttentionChoice, MeasuresAgainWhenAnyPartOfTheKeyChanges) {
    dermlens::test::TempDir dir("attention_choice");
    const AttentionStore store(dir.path() / "attention-paths.json");
    StubTimer stub{10, 25, {}};
    choose_attention(key(), store, stub.timer());

    std::map<std::string, AttentionKey> changed;
    changed["cpu"] = key();
    changed["cpu"].cpu = "Test CPU | AVX2 FMA AVX512F";
    changed["threads"] = key();
    changed["threads"].threads = 4;
    changed["mmproj"] = key();
    changed["mmproj"].model_sha256 = "cd34";
    changed["shape"] = key();
    changed["shape"].shape = "vision 1024x1024 tokens, 4 of 16 heads x 72";
    changed["graph"] = key();
    changed["graph"].graph = "text";
    for (const auto & [what, other] : changed) {
        stub.calls.clear();
        stub.flash_ms = 50;  // now plain is faster
        const AttentionDecision decision = choose_attention(other, store, stub.timer());
        EXPECT_FALSE(stub.calls.empty()) << what << " changed: measured again";
        EXPECT_FALSE(decision.remembered) << what;
        EXPECT_FALSE(decision.flash) << what;
        stub.flash_ms = 10;
    }
    EXPECT_TRUE(store.find(key())->flash) << "other keys' decisions leave this one's alone";
    EXPECT_FALSE(store.find(changed["threads"])->flash);
}

TEST(AttentionChoice, AnUnreadableStoreIsEmptyAndRewritten) {
    dermlens::test::TempDir dir("attention_choice");
    const auto file = dir.path() / "attention-paths.json";
    for (const char * text : {"not json {", "[1, 2]", "{\"decisions\": [{\"key\": 3}, 7, {\"flash\": \"yes\"}]}"}) {
        std::ofstream(file) << text;
        const AttentionStore store(file);
        EXPECT_FALSE(store.find(key())) << text;
        StubTimer stub{10, 25, {}};
        EXPECT_FALSE(choose_attention(key(), store, stub.timer()).remembered) << text;
        EXPECT_TRUE(store.find(key())) << text;
    }
}

TEST(AttentionChoice, TheBenchmarkRunsBothPathsOfBothGraphs) {
    for (const char * graph : {"vision", "text"}) {
        AttentionShape shape;
        shape.graph = graph;
        shape.queries = shape.keys = 64;
        shape.head_dim = 16;
        shape.heads = shape.model_heads = 4;
        shape.kv_heads = std::string(graph) == "text" ? 2 : 4;
        for (const bool flash : {true, false}) {
            EXPECT_GT(dermlens::model::time_attention_ms(shape, flash, 1), 0.0) << graph << " flash " << flash;
        }
    }
    EXPECT_NE(dermlens::model::cpu_description().find(" |"), std::string::npos);
}

}  // namespace
