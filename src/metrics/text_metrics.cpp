#include "metrics/text_metrics.h"

#include "common/text.h"
#include "dermlens/error.h"
#include "metrics/porter_stemmer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>
#include <set>
#include <utility>

namespace dermlens::metrics {
namespace {

[[noreturn]] void invalid(const std::string & message, const char * field) {
    throw Error(ErrorKind::InvalidArgument, message, field);
}

bool is_python_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

// ---- BLEU ----

using NgramCounts = std::map<std::vector<std::string>, std::size_t>;

NgramCounts ngram_counts(const Tokens & tokens, std::size_t n) {
    NgramCounts counts;
    for (std::size_t i = 0; i + n <= tokens.size(); ++i) {
        ++counts[std::vector<std::string>(tokens.begin() + static_cast<std::ptrdiff_t>(i),
                                          tokens.begin() + static_cast<std::ptrdiff_t>(i + n))];
    }
    return counts;
}

// NLTK's modified_precision: hypothesis n-grams clipped by their most frequent count in one
// reference, over max(1, hypothesis n-grams).
std::pair<std::size_t, std::size_t> modified_precision(const std::vector<Tokens> & references, const Tokens & hypothesis,
                                                       std::size_t n) {
    const NgramCounts counts = ngram_counts(hypothesis, n);
    std::map<std::vector<std::string>, std::size_t> max_counts;
    for (const Tokens & reference : references) {
        const NgramCounts reference_counts = ngram_counts(reference, n);
        for (const auto & [ngram, count] : counts) {
            const auto found = reference_counts.find(ngram);
            std::size_t & best = max_counts[ngram];
            best = std::max(best, found == reference_counts.end() ? std::size_t{0} : found->second);
        }
    }
    std::size_t clipped = 0;
    std::size_t total = 0;
    for (const auto & [ngram, count] : counts) {
        clipped += std::min(count, max_counts[ngram]);
        total += count;
    }
    return {clipped, std::max<std::size_t>(1, total)};
}

// NLTK's closest_ref_length: the reference length nearest the hypothesis's, the shorter on a tie.
std::size_t closest_reference_length(const std::vector<Tokens> & references, std::size_t hypothesis_length) {
    std::size_t best = references.front().size();
    for (const Tokens & reference : references) {
        const std::size_t length = reference.size();
        const auto distance = [&](std::size_t l) { return l > hypothesis_length ? l - hypothesis_length : hypothesis_length - l; };
        if (distance(length) < distance(best) || (distance(length) == distance(best) && length < best)) {
            best = length;
        }
    }
    return best;
}

double brevity_penalty(std::size_t reference_length, std::size_t hypothesis_length) {
    if (hypothesis_length > reference_length) {
        return 1.0;
    }
    if (hypothesis_length == 0) {
        return 0.0;
    }
    return std::exp(1.0 - static_cast<double>(reference_length) / static_cast<double>(hypothesis_length));
}

// ---- METEOR ----

using Enumerated = std::vector<std::pair<std::size_t, std::string>>;  // (position, word)
using Alignment = std::vector<std::pair<std::size_t, std::size_t>>;   // (hypothesis, reference) positions

// NLTK's _match_enums with a word test: from the last hypothesis word backwards, the last
// unmatched reference word that matches it; matched words leave both lists.
template <typename Matches>
void match_stage(Enumerated & hypothesis, Enumerated & reference, Alignment & alignment, Matches matches) {
    for (std::size_t i = hypothesis.size(); i-- > 0;) {
        for (std::size_t j = reference.size(); j-- > 0;) {
            if (matches(hypothesis[i].second, reference[j].second)) {
                alignment.emplace_back(hypothesis[i].first, reference[j].first);
                hypothesis.erase(hypothesis.begin() + static_cast<std::ptrdiff_t>(i));
                reference.erase(reference.begin() + static_cast<std::ptrdiff_t>(j));
                break;
            }
        }
    }
}

Enumerated enumerate_lower(const Tokens & tokens) {
    Enumerated words;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        words.emplace_back(i, ascii_lower(tokens[i]));
    }
    return words;
}

void stem_all(Enumerated & words) {
    for (auto & word : words) {
        word.second = porter_stem(word.second);
    }
}

// NLTK's _enum_align_words: exact, then stem, then synonym matches, sorted by hypothesis position.
// The synonym stage sees the stems (NLTK passes the stage's leftover stemmed lists on).
Alignment align(const Tokens & hypothesis_tokens, const Tokens & reference_tokens, const WordNet * wordnet) {
    Enumerated hypothesis = enumerate_lower(hypothesis_tokens);
    Enumerated reference = enumerate_lower(reference_tokens);
    Alignment alignment;
    const auto equal = [](const std::string & a, const std::string & b) { return a == b; };
    match_stage(hypothesis, reference, alignment, equal);
    stem_all(hypothesis);
    stem_all(reference);
    match_stage(hypothesis, reference, alignment, equal);
    if (wordnet) {
        match_stage(hypothesis, reference, alignment, [wordnet](const std::string & hyp, const std::string & ref) {
            if (hyp == ref) {
                return true;
            }
            if (ref.find('_') != std::string::npos) {
                return false;  // multi-word lemmas never count as synonyms
            }
            const std::vector<std::string> & names = wordnet->lemma_names(hyp);
            return std::binary_search(names.begin(), names.end(), ref);
        });
    }
    std::sort(alignment.begin(), alignment.end());
    return alignment;
}

// The fewest runs of matches adjacent in both texts (NLTK's _count_chunks).
std::size_t count_chunks(const Alignment & alignment) {
    std::size_t chunks = 1;
    for (std::size_t i = 0; i + 1 < alignment.size(); ++i) {
        if (!(alignment[i + 1].first == alignment[i].first + 1 && alignment[i + 1].second == alignment[i].second + 1)) {
            ++chunks;
        }
    }
    return chunks;
}

double single_meteor(const Tokens & reference, const Tokens & hypothesis, const WordNet * wordnet,
                     const MeteorParams & params) {
    const Alignment alignment = align(hypothesis, reference, wordnet);
    const double matches = static_cast<double>(alignment.size());
    if (alignment.empty() || hypothesis.empty() || reference.empty()) {
        return 0.0;  // NLTK's ZeroDivisionError branch
    }
    const double precision = matches / static_cast<double>(hypothesis.size());
    const double recall = matches / static_cast<double>(reference.size());
    const double fmean = (precision * recall) / (params.alpha * precision + (1 - params.alpha) * recall);
    const double fragmentation = static_cast<double>(count_chunks(alignment)) / matches;
    const double penalty = params.gamma * std::pow(fragmentation, params.beta);
    return (1 - penalty) * fmean;
}

// ---- ROUGE-L ----

// The LCS length table of x (rows) against y (columns).
std::vector<std::vector<std::size_t>> lcs_table(const Tokens & x, const Tokens & y) {
    std::vector<std::vector<std::size_t>> table(x.size() + 1, std::vector<std::size_t>(y.size() + 1, 0));
    for (std::size_t i = 1; i <= x.size(); ++i) {
        for (std::size_t j = 1; j <= y.size(); ++j) {
            table[i][j] = x[i - 1] == y[j - 1] ? table[i - 1][j - 1] + 1 : std::max(table[i - 1][j], table[i][j - 1]);
        }
    }
    return table;
}

// The words of one LCS of x and y, traced back as pltrdy's _recon_lcs does (up on a strictly
// longer row, else left).
std::vector<std::string> lcs_words(const Tokens & x, const Tokens & y) {
    const auto table = lcs_table(x, y);
    std::vector<std::string> words;
    std::size_t i = x.size();
    std::size_t j = y.size();
    while (i > 0 && j > 0) {
        if (x[i - 1] == y[j - 1]) {
            words.push_back(x[i - 1]);
            --i;
            --j;
        } else if (table[i - 1][j] > table[i][j - 1]) {
            --i;
        } else {
            --j;
        }
    }
    return words;
}

// pltrdy's sentences: pieces between "." that are not empty, whitespace collapsed, split at " "
// (a piece of only spaces is one empty word, as in the package).
std::vector<Tokens> pltrdy_sentences(std::string_view text) {
    std::vector<Tokens> sentences;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t dot = std::min(text.find('.', start), text.size());
        const std::string_view piece = text.substr(start, dot - start);
        if (!piece.empty()) {
            Tokens words = whitespace_tokens(piece);
            sentences.push_back(words.empty() ? Tokens{""} : std::move(words));
        }
        start = dot + 1;
    }
    return sentences;
}

std::size_t distinct_words(const std::vector<Tokens> & sentences) {
    std::set<std::string> words;
    for (const Tokens & sentence : sentences) {
        words.insert(sentence.begin(), sentence.end());
    }
    return words.size();
}

}  // namespace

Tokens whitespace_tokens(std::string_view text) {
    Tokens tokens;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_python_space(text[i])) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && !is_python_space(text[i])) {
            ++i;
        }
        if (i > start) {
            tokens.emplace_back(text.substr(start, i - start));
        }
    }
    return tokens;
}

double corpus_bleu(const std::vector<std::vector<Tokens>> & references, const std::vector<Tokens> & hypotheses,
                   std::size_t max_order) {
    if (references.size() != hypotheses.size()) {
        invalid(fmt::format("BLEU: {} reference lists but {} hypotheses", references.size(), hypotheses.size()),
                "references");
    }
    if (max_order == 0) {
        invalid("BLEU: the n-gram order must be at least 1", "max_order");
    }
    std::vector<std::size_t> numerators(max_order, 0);
    std::vector<std::size_t> denominators(max_order, 0);
    std::size_t hypothesis_length = 0;
    std::size_t reference_length = 0;
    for (std::size_t s = 0; s < hypotheses.size(); ++s) {
        if (references[s].empty()) {
            invalid(fmt::format("BLEU: hypothesis {} has no reference", s + 1), "references");
        }
        for (std::size_t n = 1; n <= max_order; ++n) {
            const auto [clipped, total] = modified_precision(references[s], hypotheses[s], n);
            numerators[n - 1] += clipped;
            denominators[n - 1] += total;
        }
        hypothesis_length += hypotheses[s].size();
        reference_length += closest_reference_length(references[s], hypotheses[s].size());
    }
    if (hypotheses.empty() || numerators[0] == 0) {
        return 0.0;
    }
    const double weight = 1.0 / static_cast<double>(max_order);
    double log_sum = 0;
    for (std::size_t n = 0; n < max_order; ++n) {
        // NLTK's method0: a zero precision becomes the smallest normal double.
        const double precision = numerators[n] == 0 ? DBL_MIN
                                                    : static_cast<double>(numerators[n]) /
                                                          static_cast<double>(denominators[n]);
        log_sum += weight * std::log(precision);
    }
    return brevity_penalty(reference_length, hypothesis_length) * std::exp(log_sum);
}

void MeteorParams::validate() const {
    if (!(alpha >= 0 && alpha <= 1)) {
        invalid(fmt::format("METEOR: alpha {} is outside [0, 1]", alpha), "alpha");
    }
    if (!(beta > 0)) {
        invalid(fmt::format("METEOR: beta {} must be positive", beta), "beta");
    }
    if (!(gamma >= 0 && gamma <= 1)) {
        invalid(fmt::format("METEOR: gamma {} is outside [0, 1]", gamma), "gamma");
    }
}

double meteor(const std::vector<Tokens> & references, const Tokens & hypothesis, const WordNet * wordnet,
              const MeteorParams & params) {
    params.validate();
    if (references.empty()) {
        invalid("METEOR: no reference", "references");
    }
    double best = 0;
    for (const Tokens & reference : references) {
        best = std::max(best, single_meteor(reference, hypothesis, wordnet, params));
    }
    return best;
}

double rouge_l(const std::vector<Tokens> & references, const Tokens & hypothesis) {
    double best = 0;
    for (const Tokens & reference : references) {
        const double lcs = static_cast<double>(lcs_table(hypothesis, reference)[hypothesis.size()][reference.size()]);
        if (lcs > 0) {
            const double precision = lcs / static_cast<double>(hypothesis.size());
            const double recall = lcs / static_cast<double>(reference.size());
            best = std::max(best, 2 * precision * recall / (precision + recall));
        }
    }
    return best;
}

double rouge_l_summary(std::string_view hypothesis, std::string_view reference) {
    const std::vector<Tokens> hypothesis_sentences = pltrdy_sentences(hypothesis);
    const std::vector<Tokens> reference_sentences = pltrdy_sentences(reference);
    if (hypothesis_sentences.empty() || reference_sentences.empty()) {
        return 0.0;
    }
    std::set<std::string> lcs_union;
    for (const Tokens & reference_sentence : reference_sentences) {
        for (const Tokens & hypothesis_sentence : hypothesis_sentences) {
            const std::vector<std::string> words = lcs_words(reference_sentence, hypothesis_sentence);
            lcs_union.insert(words.begin(), words.end());
        }
    }
    const double lcs = static_cast<double>(lcs_union.size());
    const double recall = lcs / static_cast<double>(distinct_words(reference_sentences));
    const double precision = lcs / static_cast<double>(distinct_words(hypothesis_sentences));
    return 2.0 * ((precision * recall) / (precision + recall + 1e-8));
}

double token_set_recall(const Tokens & reference, const Tokens & hypothesis) {
    const std::set<std::string> reference_words(reference.begin(), reference.end());
    if (reference_words.empty()) {
        return 0.0;
    }
    const std::set<std::string> hypothesis_words(hypothesis.begin(), hypothesis.end());
    std::size_t common = 0;
    for (const std::string & word : reference_words) {
        common += hypothesis_words.count(word);
    }
    return static_cast<double>(common) / static_cast<double>(reference_words.size());
}

RougeVariant parse_rouge_variant(const std::string & name) {
    if (name == "sentence") {
        return RougeVariant::Sentence;
    }
    if (name == "summary") {
        return RougeVariant::Summary;
    }
    invalid(fmt::format("ROUGE-L '{}': choose sentence (LCS F1) or summary (pltrdy's summary-level variant)", name),
            "rouge");
}

TextScores score_answers(const std::vector<std::string> & answers, const std::vector<std::string> & references,
                         const WordNet * wordnet, RougeVariant rouge) {
    if (answers.size() != references.size()) {
        invalid(fmt::format("text metrics: {} answers but {} references", answers.size(), references.size()),
                "references");
    }
    TextScores scores;
    scores.answers = answers.size();
    if (answers.empty()) {
        return scores;
    }
    std::vector<std::vector<Tokens>> reference_tokens;
    std::vector<Tokens> answer_tokens;
    for (std::size_t i = 0; i < answers.size(); ++i) {
        answer_tokens.push_back(whitespace_tokens(answers[i]));
        reference_tokens.push_back({whitespace_tokens(references[i])});
        scores.meteor += meteor(reference_tokens.back(), answer_tokens.back(), wordnet);
        scores.rouge_l += rouge == RougeVariant::Summary ? rouge_l_summary(answers[i], references[i])
                                                         : rouge_l(reference_tokens.back(), answer_tokens.back());
        scores.recall += token_set_recall(reference_tokens.back().front(), answer_tokens.back());
    }
    const double count = static_cast<double>(answers.size());
    scores.bleu4 = corpus_bleu(reference_tokens, answer_tokens);
    scores.meteor /= count;
    scores.rouge_l /= count;
    scores.recall /= count;
    return scores;
}

}  // namespace dermlens::metrics
