// The text metrics of metrics/text_metrics.h against NLTK 3.8 (Debian's python3-nltk) with
// Debian's WordNet, and ROUGE-L against an independent Python implementation
// (tests/metrics/text_metrics_reference.py), to 1e-9 on 264 random hypothesis/reference pairs:
// identical, empty hypothesis or reference, no word in common, repeated words, several
// references, case differences, stems and synonyms, "." sentence breaks. Also the Porter stems
// and WordNet lemma names of every vocabulary word and of words that exercise the stemmer's rules.
#include "dermlens/error.h"
#include "metrics/porter_stemmer.h"
#include "metrics/text_metrics.h"
#include "metrics/wordnet.h"
#include "support/python_reference.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

namespace metrics = dermlens::metrics;
using nlohmann::json;

// Words with shared stems, WordNet synonyms (red / reddish / ruddy, big / large, …), case
// variants and punctuation, so that every METEOR stage and pltrdy's "." splitting matter.
const std::vector<std::string> & vocabulary() {
    static const std::vector<std::string> words{
        "lesion", "lesions", "Lesion", "papule", "papules", "plaque", "plaques", "red", "reddish", "ruddy",
        "erythematous", "scaly", "scale", "scaling", "large", "big", "small", "little", "tiny", "dark",
        "darker", "brown", "tan", "pigmented", "pigmentation", "nodule", "nodules", "ulcer", "ulcerated",
        "showing", "shows", "shown", "image", "images", "the", "The", "a", "of", "with", "and", "in", "is",
        "are", "there", "border", "borders", "irregular", "regular", "symmetric", "asymmetry", "colour",
        "color", "hair", "hairs", "vessels", "dotted", "dots", "skin", "cutaneous", "rash", "eruption",
        "crusted", "crust", "thick", "thickened", "flat", "raised", ".", "lesion.", "borders.", ",", "(A)",
        "generalized", "hopefully", "arguing", "agreed", "feet", "better", "women", "cells"};
    return words;
}

// Words outside the vocabulary only: no METEOR stage can match them.
const std::vector<std::string> & other_words() {
    static const std::vector<std::string> words{"xylo", "quorp", "zent", "blick", "frim", "dax", "wug", "tove"};
    return words;
}

std::string random_text(std::mt19937_64 & rng, const std::vector<std::string> & words, std::size_t length) {
    std::string text;
    for (std::size_t i = 0; i < length; ++i) {
        text += (i ? " " : "") + words[rng() % words.size()];
    }
    return text;
}

std::string repeated_text(std::mt19937_64 & rng, std::size_t length) {
    const std::string word = vocabulary()[rng() % 6];
    std::string text = word;
    for (std::size_t i = 1; i < length; ++i) {
        text += " " + (rng() % 4 ? word : vocabulary()[rng() % vocabulary().size()]);
    }
    return text;
}

struct Pair {
    std::string hypothesis;
    std::vector<std::string> references;
};

// Pair i is of kind i % 8; lengths 1 to 25 words.
Pair random_pair(std::mt19937_64 & rng, std::size_t i) {
    const auto length = [&] { return 1 + rng() % 25; };
    Pair pair{random_text(rng, vocabulary(), length()), {random_text(rng, vocabulary(), length())}};
    switch (i % 8) {
        case 0: pair.references = {pair.hypothesis}; break;  // identical
        case 1: pair.hypothesis.clear(); break;
        case 2: pair.references = {""}; break;
        case 3: pair.hypothesis = random_text(rng, other_words(), length()); break;  // no overlap
        case 4: pair.hypothesis = repeated_text(rng, length()); pair.references = {repeated_text(rng, length())}; break;
        case 5:  // several references, one of them close to the hypothesis
            pair.references.push_back(pair.hypothesis + " " + random_text(rng, vocabulary(), 2));
            pair.references.push_back(random_text(rng, vocabulary(), length()));
            break;
        default: break;  // random
    }
    return pair;
}

std::vector<metrics::Tokens> tokens_of(const std::vector<std::string> & texts) {
    std::vector<metrics::Tokens> tokens;
    for (const std::string & text : texts) {
        tokens.push_back(metrics::whitespace_tokens(text));
    }
    return tokens;
}

TEST(TextMetricsNltk, EqualNltkOnRandomPairs) {
    std::mt19937_64 rng(18);
    std::vector<Pair> pairs;
    json cases{{"pairs", json::array()}, {"corpora", json::array()}};
    for (std::size_t i = 0; i < 264; ++i) {
        pairs.push_back(random_pair(rng, i));
        cases["pairs"].push_back({{"hypothesis", pairs.back().hypothesis}, {"references", pairs.back().references}});
    }
    // Corpora of 1 to 24 consecutive pairs, so corpus sums and single sentences are both checked.
    for (std::size_t start = 0, size = 1; start < pairs.size(); start += size, size = 1 + (size * 7) % 24) {
        json corpus = json::array();
        for (std::size_t i = start; i < std::min(pairs.size(), start + size); ++i) {
            corpus.push_back(i);
        }
        cases["corpora"].push_back(corpus);
    }
    std::vector<std::string> words = vocabulary();
    for (const char * word : {"skies", "dying", "news", "generalization", "relational", "conditional", "rational",
                              "valenci", "hesitanci", "digitizer", "conformabli", "radicalli", "differentli",
                              "vileli", "analogousli", "vietnamization", "predication", "operator", "feudalism",
                              "decisiveness", "hopefulness", "callousness", "formaliti", "sensitiviti",
                              "sensibiliti", "triplicate", "formative", "formalize", "electriciti", "electrical",
                              "hopeful", "goodness", "revival", "allowance", "inference", "airliner", "gyroscopic",
                              "adjustable", "defensible", "irritant", "replacement", "adjustment", "dependent",
                              "adoption", "homologou", "communism", "activate", "angulariti", "homologous",
                              "effective", "bowdlerize", "probate", "rate", "cease", "controll", "roll", "ties",
                              "cries", "died", "spied", "agreed", "feed", "hopping", "tanned", "falling", "hissing",
                              "fizzed", "failing", "filing", "happy", "sky", "by", "say", "fully", "logi",
                              "archaeology", "Running", "a", "as", "is"}) {
        words.emplace_back(word);
    }
    cases["words"] = words;

    const dermlens::test::TempDir dir("text_metrics_nltk");
    std::ofstream(dir / "cases.json") << cases.dump();
    const json theirs = dermlens::test::python_reference("tests/metrics/text_metrics_reference.py",
                                                         {(dir / "cases.json").string(), dir.path().string()});

    const metrics::WordNet wordnet;
    for (std::size_t w = 0; w < words.size(); ++w) {
        EXPECT_EQ(metrics::porter_stem(words[w]), theirs["stems"][w].get<std::string>()) << words[w];
        EXPECT_EQ(wordnet.lemma_names(words[w]), theirs["lemma_names"][w].get<std::vector<std::string>>()) << words[w];
    }
    std::size_t synonym_matters = 0;  // pairs whose METEOR the synonym stage changes: the stage is exercised
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        const metrics::Tokens hypothesis = metrics::whitespace_tokens(pairs[i].hypothesis);
        const std::vector<metrics::Tokens> references = tokens_of(pairs[i].references);
        const json & expected = theirs["pairs"][i];
        SCOPED_TRACE("pair " + std::to_string(i) + ": '" + pairs[i].hypothesis + "' vs '" + pairs[i].references[0] + "'");
        EXPECT_NEAR(metrics::meteor(references, hypothesis, &wordnet), expected["meteor"].get<double>(), 1e-9);
        EXPECT_NEAR(metrics::meteor(references, hypothesis, nullptr), expected["meteor_exact_stem"].get<double>(), 1e-9);
        synonym_matters += expected["meteor"] != expected["meteor_exact_stem"];
        EXPECT_NEAR(metrics::rouge_l(references, hypothesis), expected["rouge_l"].get<double>(), 1e-9);
        EXPECT_NEAR(metrics::rouge_l_summary(pairs[i].hypothesis, pairs[i].references[0]),
                    expected["rouge_l_summary"].get<double>(), 1e-9);
        EXPECT_NEAR(metrics::token_set_recall(references[0], hypothesis), expected["recall"].get<double>(), 1e-9);
    }
    EXPECT_GE(synonym_matters, 5U);
    for (std::size_t c = 0; c < cases["corpora"].size(); ++c) {
        std::vector<std::vector<metrics::Tokens>> references;
        std::vector<metrics::Tokens> hypotheses;
        for (const std::size_t i : cases["corpora"][c].get<std::vector<std::size_t>>()) {
            references.push_back(tokens_of(pairs[i].references));
            hypotheses.push_back(metrics::whitespace_tokens(pairs[i].hypothesis));
        }
        EXPECT_NEAR(metrics::corpus_bleu(references, hypotheses), theirs["corpora"][c].get<double>(), 1e-9)
            << "corpus " << c;
    }
}

TEST(TextMetrics, HandComputedCases) {
    using metrics::Tokens;
    // NLTK's documented example: 0.6944 (meteor_score.py's doctest).
    const Tokens hypothesis = metrics::whitespace_tokens(
        "It is a guide to action which ensures that the military always obeys the commands of the party");
    const Tokens reference = metrics::whitespace_tokens(
        "It is a guide to action that ensures that the military will forever heed Party commands");
    const metrics::WordNet wordnet;
    EXPECT_NEAR(metrics::meteor({reference}, hypothesis, &wordnet), 0.6944444444444445, 1e-12);
    EXPECT_DOUBLE_EQ(metrics::corpus_bleu({{hypothesis}}, {hypothesis}), 1.0);
    EXPECT_DOUBLE_EQ(metrics::corpus_bleu({}, {}), 0.0);
    EXPECT_DOUBLE_EQ(metrics::token_set_recall({"a", "b", "b"}, {"b", "c"}), 0.5);
    EXPECT_DOUBLE_EQ(metrics::rouge_l({{"a", "b", "c", "d"}}, {"a", "c", "x", "d"}), 0.75);
    EXPECT_EQ(metrics::whitespace_tokens("  a\tb\n\x1f c  "), (Tokens{"a", "b", "c"}));
    EXPECT_THROW(metrics::corpus_bleu({{}}, {{"a"}}), dermlens::Error);
    EXPECT_THROW(metrics::meteor({}, {"a"}, nullptr), dermlens::Error);
    EXPECT_THROW(metrics::WordNet("/nonexistent/wordnet"), dermlens::Error);
}

}  // namespace
