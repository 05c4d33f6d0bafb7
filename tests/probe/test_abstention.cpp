// Deciding or abstaining: the "not sure" option winning, the threshold on the top real
// option (renormalised without "not sure"), cases that must not abstain, and errors.
#include "dermlens/error.h"
#include "probe/abstention.h"
#include "probe/fusion.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace {

using namespace dermlens::probe;
using dermlens::ErrorKind;
using testing::HasSubstr;

AbstentionParams threshold(double value, bool not_sure_option = false) {
    AbstentionParams params;
    params.threshold = value;
    params.not_sure_option = not_sure_option;
    return params;
}

std::string error_of(const std::function<void()> & action, ErrorKind expected) {
    try {
        action();
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), expected) << e.what();
        return e.what();
    }
    return "(no error)";
}

void expect_choice(const Decision & decision, std::size_t choice) {
    EXPECT_FALSE(decision.abstained) << decision.reason;
    EXPECT_EQ(decision.choice, choice);
    EXPECT_EQ(decision.reason, "");
}

TEST(Abstention, ByDefaultPicksTheMostProbableOptionHoweverUnsure) {
    expect_choice(decide({0.33, 0.34, 0.33}, std::nullopt, {}), 1);
    expect_choice(decide({0.2, 0.4, 0.4}, std::nullopt, {}), 1);  // a tie goes to the lower index
    expect_choice(decide({3.0, 1.0}, std::nullopt, {}), 0);        // not normalised: renormalised
}

TEST(Abstention, AbstainsWhenTheNotSureOptionWins) {
    const Decision decision = decide({0.30, 0.41, 0.29}, 1, threshold(0.0, true));
    EXPECT_TRUE(decision.abstained);
    EXPECT_FALSE(decision.choice.has_value());
    EXPECT_EQ(decision.reason, "the model chose the 'not sure' option (p = 0.41)");
    // The same, not normalised.
    EXPECT_EQ(decide({3.0, 4.1, 2.9}, 1, threshold(0.0, true)).reason,
              "the model chose the 'not sure' option (p = 0.41)");
    // All mass on "not sure" (the real options 0).
    EXPECT_TRUE(decide({0.0, 0.0, 1.0}, 2, threshold(0.5, true)).abstained);
}

TEST(Abstention, DecidesWhenTheNotSureOptionIsOfferedButLoses) {
    expect_choice(decide({0.5, 0.3, 0.2}, 2, threshold(0.0, true)), 0);
    expect_choice(decide({0.4, 0.4, 0.2}, 1, threshold(0.0, true)), 0);  // a tie with "not sure" at a higher index
}

TEST(Abstention, AbstainsBelowTheThreshold) {
    const Decision decision = decide({0.32, 0.28, 0.2, 0.2}, std::nullopt, threshold(0.5));
    EXPECT_TRUE(decision.abstained);
    EXPECT_FALSE(decision.choice.has_value());
    EXPECT_EQ(decision.reason, "top probability 0.32 is below the threshold 0.5");
    expect_choice(decide({0.32, 0.28, 0.2, 0.2}, std::nullopt, threshold(0.3)), 0);
    expect_choice(decide({0.5, 0.5}, std::nullopt, threshold(0.5)), 0);  // at the threshold: not below it
    // Just below: printed with the digits that show it is below.
    EXPECT_EQ(decide({0.4996, 0.3, 0.2004}, std::nullopt, threshold(0.5)).reason,
              "top probability 0.4996 is below the threshold 0.5");
    // Threshold 1 abstains unless one option holds everything.
    EXPECT_TRUE(decide({0.99, 0.01}, std::nullopt, threshold(1.0)).abstained);
    expect_choice(decide({0.0, 1.0}, std::nullopt, threshold(1.0)), 1);
}

TEST(Abstention, TheThresholdIgnoresTheNotSureMass) {
    // Raw 0.4 is below 0.5, but over the real options it is 0.4 / 0.65 = 0.615.
    expect_choice(decide({0.4, 0.35, 0.25}, 1, threshold(0.5, true)), 0);
    EXPECT_EQ(decide({0.4, 0.35, 0.25}, 1, threshold(0.65, true)).reason,
              "top probability 0.62 is below the threshold 0.65");
    // The same real options without the "not sure" option decide the same way.
    expect_choice(decide({0.4, 0.25}, std::nullopt, threshold(0.5)), 0);
    EXPECT_TRUE(decide({0.4, 0.25}, std::nullopt, threshold(0.65)).abstained);
}

TEST(Abstention, AbstainsWhenProbeAndVlmDisagree) {
    // Each side is sure, of different candidates: fused they are even, and a threshold of 0.6 abstains.
    const auto disagree = fuse({0.8, 0.2}, {0.2, 0.8}, 0.5);
    EXPECT_EQ(decide(disagree, std::nullopt, threshold(0.6)).reason, "top probability 0.5 is below the threshold 0.6");
    const auto agree = fuse({0.8, 0.2}, {0.7, 0.3}, 0.5);
    expect_choice(decide(agree, std::nullopt, threshold(0.6)), 0);
}

TEST(Abstention, RefusesInconsistentOrMalformedInput) {
    EXPECT_EQ(error_of([] { threshold(1.5).validate(); }, ErrorKind::InvalidArgument),
              "abstention threshold 1.5 is outside [0, 1] (0 = never abstain)");
    EXPECT_THAT(error_of([] { decide({0.5, 0.5}, std::nullopt, threshold(-0.1)); }, ErrorKind::InvalidArgument),
                HasSubstr("threshold -0.1"));
    EXPECT_THAT(error_of([] { threshold(NAN).validate(); }, ErrorKind::InvalidArgument), HasSubstr("threshold nan"));
    EXPECT_EQ(error_of([] { decide({0.5, 0.5}, std::nullopt, threshold(0.0, true)); }, ErrorKind::InvalidArgument),
              "abstention: the 'not sure' option is on, but no option is 'not sure'");
    EXPECT_EQ(error_of([] { decide({0.5, 0.5}, 1, threshold(0.0)); }, ErrorKind::InvalidArgument),
              "abstention: an option is 'not sure', but the 'not sure' option is off");
    EXPECT_EQ(error_of([] { decide({0.5, 0.5}, 2, threshold(0.0, true)); }, ErrorKind::InvalidArgument),
              "abstention: the 'not sure' option is option 2, but there are 2 options");
    EXPECT_EQ(error_of([] { decide({1.0}, 0, threshold(0.0, true)); }, ErrorKind::InvalidInput),
              "abstention: no option to choose besides 'not sure'");
    EXPECT_EQ(error_of([] { decide({}, std::nullopt, {}); }, ErrorKind::InvalidInput),
              "abstention: no options to choose from");
    EXPECT_EQ(error_of([] { decide({0.5, -0.5}, std::nullopt, {}); }, ErrorKind::InvalidInput),
              "abstention: the probability of option 1 is -0.5, not a finite number >= 0");
    EXPECT_EQ(error_of([] { decide({0.0, 0.0}, std::nullopt, {}); }, ErrorKind::InvalidInput),
              "abstention: the option probabilities are all 0");
}

}  // namespace
