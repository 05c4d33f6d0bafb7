// The "did you mean" search and the bounded edit distance behind it (kb/names.h EditDistanceFrom,
// KnowledgeBase::resolve's suggestions): distances against NLTK's, suggestions unchanged from the
// unbounded scan over every name that came before the bounded one.
#include "kb_fixtures.h"

#include "dermlens/error.h"
#include "dermlens/kb/knowledge_base.h"
#include "kb/names.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

using dermlens::kb::EditDistanceFrom;
using dermlens::kb::KnowledgeBase;

// The rows of a fixture after its header line, split at tabs.
std::vector<std::vector<std::string>> tsv_rows(const std::string & file) {
    std::ifstream in(dermlens::test::kb_fixtures_dir() / file);
    std::vector<std::vector<std::string>> rows;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::vector<std::string> fields(1);
        for (const char c : line) {
            if (c == '\t') {
                fields.emplace_back();
            } else {
                fields.back().push_back(c);
            }
        }
        rows.push_back(std::move(fields));
    }
    return rows;
}

// edit_distances.tsv: 240 pairs of random strings of 0 to 140 bytes (both the bit-parallel
// path, shorter string <= 64 bytes, and the row-by-row one), with NLTK 3.8's edit_distance.
TEST(EditDistanceFrom, MatchesNltkOnBothPathsAndBoundsOnlyAboveTheLimit) {
    const auto rows = tsv_rows("edit_distances.tsv");
    ASSERT_EQ(rows.size(), 240u);
    for (const auto & row : rows) {
        ASSERT_EQ(row.size(), 3u);
        const std::size_t expected = std::stoul(row[2]);
        EXPECT_EQ(dermlens::kb::edit_distance(row[0], row[1]), expected) << row[0] << " / " << row[1];
        EditDistanceFrom from(row[0]);
        for (const std::size_t limit : {expected, expected + 1, expected * 2}) {
            EXPECT_EQ(from.within(row[1], limit), expected) << row[0] << " / " << row[1] << " limit " << limit;
        }
        if (expected > 0) {
            EXPECT_GT(from.within(row[1], expected - 1), expected - 1) << row[0] << " / " << row[1];
        }
    }
}

// suggestions.tsv: 416 names (two to four typos in known names and labels, two names run
// together, random text) with what resolve() answered before the search was bounded, i.e. with
// the scan of commit a02c3ca computing the full distance to every known name.
TEST(Suggestions, AreThoseOfTheUnboundedScan) {
    const KnowledgeBase base = KnowledgeBase::load({KnowledgeBase::shipped_dir()});
    const auto rows = tsv_rows("suggestions.tsv");
    ASSERT_EQ(rows.size(), 416u);
    for (const auto & row : rows) {
        ASSERT_EQ(row.size(), 2u);
        std::string answer;
        try {
            answer = "resolved " + base.resolve(row[0]);
        } catch (const dermlens::Error & error) {
            answer = error.what();
        }
        EXPECT_EQ(answer, row[1]);
    }
}

TEST(Suggestions, AreLeftOutForTextTooLongToBeAMisspeltName) {
    const KnowledgeBase base = KnowledgeBase::load({KnowledgeBase::shipped_dir()});
    const std::string text(129, 'x');
    try {
        base.resolve(text);
        FAIL() << "resolved " << text;
    } catch (const dermlens::Error & error) {
        EXPECT_EQ(std::string(error.what()), "unknown condition '" + text + "'");
    }
    const std::string almost(128, 'x');
    try {
        base.resolve(almost);
        FAIL() << "resolved " << almost;
    } catch (const dermlens::Error & error) {
        EXPECT_NE(std::string(error.what()).find("did you mean"), std::string::npos);
    }
}

}  // namespace
