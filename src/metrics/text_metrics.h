// Text metrics of open answers, as paper 001 (MM-Skin / SkinVL, ../shared/reference/001_*.txt,
// section 4.1: "BLEU-4, METEOR, ROUGE-L, BERTScore, and Recall") scores its VQA answers with its
// authors' VQA_test.py (../shared/design/papers-spec.md C.4), each equal to its reference:
//
//  - BLEU-4: NLTK 3.8's corpus_bleu — clipped n-gram counts summed over the corpus, uniform
//    weights, the closest reference length (ties: the shorter) for NLTK's brevity penalty, no
//    smoothing (NLTK's method0: a zero n-gram precision becomes the smallest double, so the
//    score is ~1e-77, not exactly 0).
//  - METEOR: NLTK 3.8's meteor_score — words lower-cased, aligned by exact match, then Porter
//    stems (porter_stemmer.h), then WordNet synonyms of the stems (wordnet.h), each stage from
//    the last word backwards as NLTK does; alpha 0.9, beta 3, gamma 0.5; the best reference.
//  - ROUGE-L: the sentence-level LCS F1 (P = LCS / |hyp|, R = LCS / |ref|, the best reference),
//    or the summary-level variant of the PyPI package `rouge` (pltrdy) that the paper's numbers
//    used: texts split into sentences at ".", the union of the words of every sentence pair's
//    LCS counted against the DISTINCT words of each side, F = 2PR / (P + R + 1e-8).
//  - Recall: |set(hyp) ∩ set(ref)| / |set(ref)|, 0 for an empty reference.
//
// Tokenisation is the caller's, as in NLTK: whitespace_tokens() is Python's str.split() on
// ASCII whitespace (the authors' ref.split()); case is kept (BLEU, ROUGE and recall are
// case-sensitive; METEOR lower-cases). NLTK and pltrdy have no BERTScore equivalent here (it
// needs a BERT model): not computed.
#pragma once

#include "metrics/wordnet.h"

#include <string>
#include <string_view>
#include <vector>

namespace dermlens::metrics {

using Tokens = std::vector<std::string>;

// Python's str.split() for ASCII text: runs of space, \t, \n, \v, \f, \r and \x1c-\x1f separate.
Tokens whitespace_tokens(std::string_view text);

// NLTK's corpus_bleu(references, hypotheses) with weights 1/max_order each. Throws
// Error(InvalidArgument) for sizes that differ, a hypothesis without references or max_order 0.
double corpus_bleu(const std::vector<std::vector<Tokens>> & references, const std::vector<Tokens> & hypotheses,
                   std::size_t max_order = 4);

struct MeteorParams {
    double alpha = 0.9;  // the weight of precision against recall in the harmonic mean
    double beta = 3.0;   // the shape of the fragmentation penalty
    double gamma = 0.5;  // its weight
    void validate() const;  // alpha in [0, 1], beta > 0, gamma in [0, 1]
};

// NLTK's meteor_score(references, hypothesis); `wordnet` null: no synonym stage (exact and stem
// only). Throws Error(InvalidArgument) for no references.
double meteor(const std::vector<Tokens> & references, const Tokens & hypothesis, const WordNet * wordnet,
              const MeteorParams & params = {});

// The sentence-level ROUGE-L F1 against the best reference; 0 when nothing is in common.
double rouge_l(const std::vector<Tokens> & references, const Tokens & hypothesis);

// pltrdy's Rouge().get_scores(hypothesis, reference)["rouge-l"]["f"] on raw text (the package
// splits sentences at "." and words at single spaces after collapsing whitespace). Where the
// package refuses a text with no sentence (empty, or only "."), this gives 0.
double rouge_l_summary(std::string_view hypothesis, std::string_view reference);

// |set(hypothesis) ∩ set(reference)| / |set(reference)|; 0 for an empty reference.
double token_set_recall(const Tokens & reference, const Tokens & hypothesis);

enum class RougeVariant { Sentence, Summary };
// "sentence" or "summary"; throws Error(InvalidArgument) naming the choices.
RougeVariant parse_rouge_variant(const std::string & name);

// One scored answer set: per-answer METEOR, ROUGE-L and recall averaged, BLEU-4 over the corpus.
struct TextScores {
    std::size_t answers = 0;
    double bleu4 = 0;
    double meteor = 0;
    double rouge_l = 0;
    double recall = 0;
};

// Scores answers against one reference each, tokenised by whitespace_tokens (as VQA_test.py).
// Throws Error(InvalidArgument) for sizes that differ; an empty set scores 0 everywhere.
TextScores score_answers(const std::vector<std::string> & answers, const std::vector<std::string> & references,
                         const WordNet * wordnet, RougeVariant rouge = RougeVariant::Sentence);

}  // namespace dermlens::metrics
