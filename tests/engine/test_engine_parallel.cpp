// EngineParams::parallel on a generated tiny Gemma 3 model: two diagnoses of different images
// are inside their decoding at the same moment (a rendezvous in their progress callbacks that
// only opens when both are) and each equals the diagnosis a single-session Engine gives; the
// same new image asked for by two calls at once is encoded once (a rendezvous in their
// should-stop callbacks holds the encoding call until the other one waits for it); an image
// asked about again gets the session whose KV cache holds it. Built and
// run under ASan + UBSan too (label sanitize): the sessions share the model, the encoder, the
// embedding cache and the knowledge base.
#include "engine/engine_fixture.h"

#include "dermlens/engine.h"
#include "engine/internals.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace {

using namespace dermlens;
using dermlens::test::TinyModel;
using json = nlohmann::ordered_json;

EngineParams tiny_params(int parallel) {
    EngineParams params;
    params.model = TinyModel::shared().files.model;
    params.mmproj = TinyModel::shared().files.mmproj;
    params.threads = 1;  // one per session as well: the reports' settings are the same
    params.parallel = parallel;
    return params;
}

DiagnoseRequest describe_then_decide() {
    DiagnoseRequest request;
    request.label_set = "isic9class";
    request.strategy = "describe-then-decide";
    return request;
}

json stable(json report) {
    report.erase("timings");
    report["image"].erase("encoding");
    return report;
}

// Opens once `parties` threads have arrived (each thread counted once); false when that has not
// happened within the timeout, so that a serialised Engine fails the test instead of hanging it.
class Rendezvous {
public:
    explicit Rendezvous(std::size_t parties) : parties_(parties) {}

    bool arrive() {
        std::unique_lock lock(mutex_);
        arrived_.insert(std::this_thread::get_id());
        all_here_.notify_all();
        return all_here_.wait_for(lock, std::chrono::seconds(30), [this] { return arrived_.size() >= parties_; });
    }

private:
    const std::size_t parties_;
    std::mutex mutex_;
    std::condition_variable all_here_;
    std::set<std::thread::id> arrived_;
};

std::filesystem::path second_lesion() {
    return dermlens::test::shared_lesion().parent_path() / "ISIC_0000004.jpg";
}

TEST(EngineParallel, TwoDiagnosesDecodeAtOnceAndEachIsTheSingleSessionOne) {
    json alone_a;
    json alone_b;
    {
        Engine single(tiny_params(1));
        alone_a = stable(to_json(single.diagnose(Image::from_file(dermlens::test::shared_lesion()), describe_then_decide())));
        alone_b = stable(to_json(single.diagnose(Image::from_file(second_lesion()), describe_then_decide())));
    }
    Engine engine(tiny_params(2));
    EXPECT_EQ(engine.info().parallel, 2);
    Rendezvous both_decoding(2);
    std::atomic<std::size_t> busy_when_met{0};
    const auto diagnose = [&](const std::filesystem::path & image, bool & met, json & report) {
        DiagnoseRequest request = describe_then_decide();
        request.progress = [&](std::string_view stage, int step, int) {
            if (stage == "generate" && step == 0) {  // inside the description's decoding, holding a session
                met = both_decoding.arrive();
                busy_when_met = engine.info().busy_sessions;
            }
        };
        report = stable(to_json(engine.diagnose(Image::from_file(image), request)));
    };
    bool met_a = false;
    bool met_b = false;
    json report_a;
    json report_b;
    std::thread a([&] { diagnose(dermlens::test::shared_lesion(), met_a, report_a); });
    std::thread b([&] { diagnose(second_lesion(), met_b, report_b); });
    a.join();
    b.join();
    EXPECT_TRUE(met_a && met_b) << "the two diagnoses were never decoding at the same time";
    EXPECT_EQ(busy_when_met.load(), 2u);
    EXPECT_EQ(report_a, alone_a);
    EXPECT_EQ(report_b, alone_b);
    EXPECT_EQ(engine.info().busy_sessions, 0u);
}

TEST(EngineParallel, TheSameNewImageAskedForTwiceAtOnceIsEncodedOnce) {
    Engine engine(tiny_params(2));  // no embedding cache: only the calls themselves can share
    std::vector<std::uint8_t> pixels(48 * 40 * 3);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 7 % 251);
    const EngineInfo before = engine.info();
    // The encoding call asks should_stop just before the encoder, the waiting one as it starts
    // to wait: the encoder runs only once both are there. Two encoding calls would meet too,
    // and both encode.
    Rendezvous both_asking(2);
    const ShouldStopCallback should_stop = [&] {
        both_asking.arrive();
        return false;
    };
    EncodedImage first;
    EncodedImage second;
    std::thread a([&] { first = engine.encode(Image::from_rgb(48, 40, pixels, "a"), should_stop); });
    std::thread b([&] { second = engine.encode(Image::from_rgb(48, 40, pixels, "b"), should_stop); });
    a.join();
    b.join();
    const EngineInfo after = engine.info();
    EXPECT_EQ(after.encoder_runs - before.encoder_runs, 1u);
    EXPECT_EQ(after.cache_hits - before.cache_hits, 1u);
    EXPECT_NE(first.image.from_cache, second.image.from_cache);  // one encoded, one joined it
    EXPECT_EQ(EngineInternals::encoding(first).embeddings, EngineInternals::encoding(second).embeddings);
    EXPECT_EQ(first.encode_ms() == 0, first.image.from_cache);
}

// Two images asked about in turn on two sessions: each question finds the session that last held
// its image, so the whole prompt comes from the KV cache, as when a single session is asked about
// the same image twice; a single session asked about the other image in between keeps only the
// preamble. The answers are the single session's.
TEST(EngineParallel, AnImageAskedAboutAgainGetsTheSessionThatHeldIt) {
    const Image a = Image::from_file(dermlens::test::shared_lesion());
    const Image b = Image::from_file(second_lesion());
    DiagnoseRequest request;
    request.label_set = "isic9class";
    int same_again = 0;    // reused when the session's last prompt was about the same image
    int other_between = 0;  // reused when it was about the other image
    json alone_a;
    {
        Engine single(tiny_params(1));
        alone_a = stable(to_json(single.diagnose(a, request)));
        same_again = single.diagnose(a, request).timings.reused_tokens;
        single.diagnose(b, request);
        other_between = single.diagnose(a, request).timings.reused_tokens;
    }
    ASSERT_GT(same_again, other_between) << "the image's tokens are not what a repeated question reuses";
    Engine engine(tiny_params(2));
    engine.diagnose(a, request);
    engine.diagnose(b, request);
    const Diagnosis again_a = engine.diagnose(a, request);
    const Diagnosis again_b = engine.diagnose(b, request);
    EXPECT_EQ(again_a.timings.reused_tokens, same_again);
    for (const Diagnosis * again : {&again_a, &again_b}) {
        EXPECT_EQ(again->timings.reused_tokens, again->timings.prompt_tokens) << "part of the prompt was evaluated again";
    }
    EXPECT_EQ(stable(to_json(again_a)), alone_a);
}

TEST(EngineParallel, ParallelBelowOneIsRefusedNamingIt) {
    EngineParams params = tiny_params(0);
    try {
        params.validate();
        ADD_FAILURE() << "parallel 0 accepted";
    } catch (const Error & e) {
        EXPECT_EQ(e.field(), "parallel");
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    }
}

}  // namespace
