#!/usr/bin/env python3
"""NLTK reference for dermlens's text metrics (tests/metrics/test_text_metrics_nltk.cpp).

  text_metrics_reference.py CASES.json WORK_DIR

CASES.json: {"pairs": [{"hypothesis": "...", "references": ["...", ...]}, ...],
             "corpora": [[pair index, ...], ...], "words": ["...", ...]}
Texts are tokenised with str.split(), as paper 001's VQA_test.py does. Prints
  {"pairs": [{"meteor", "meteor_exact_stem", "rouge_l", "rouge_l_summary", "recall"} per pair],
   "corpora": [corpus BLEU-4 per corpus], "stems": [...], "lemma_names": [[...] per word]}

BLEU-4 is nltk.translate.bleu_score.corpus_bleu, METEOR nltk.translate.meteor_score.meteor_score
(NLTK 3.8, Debian's python3-nltk) with WordNet read from Debian's wordnet-base
(/usr/share/wordnet, or $DERMLENS_WORDNET): NLTK's reader also wants a "lexnames" file, which
wordnet-base lacks, so WORK_DIR gets links to the database files and a stand-in lexnames (the
lexicographer file names play no part in synonyms). "meteor_exact_stem" is METEOR with an
empty WordNet stand-in (no synonyms), for dermlens's METEOR without WordNet.

NLTK has no ROUGE and Debian packages none, so ROUGE-L is written here, independently of the
C++: the sentence-level LCS F1 (best reference), and the summary-level variant of the PyPI
package `rouge` (pltrdy) as that package defines it (sentences split at ".", pieces that are
not empty kept with whitespace collapsed, words split at " ", the union of the words of each
sentence pair's traced-back LCS against the distinct words of each side,
F = 2PR / (P + R + 1e-8); 0 where the package would refuse an input with no sentence).
Recall is |set(hyp) & set(ref)| / |set(ref)| (0 for an empty reference), the first reference.
"""
import json
import os
import sys
import warnings

from nltk.corpus.reader.wordnet import WordNetCorpusReader
from nltk.stem.porter import PorterStemmer
from nltk.translate.bleu_score import corpus_bleu
from nltk.translate.meteor_score import meteor_score


def wordnet_reader(work_dir):
    source = os.environ.get("DERMLENS_WORDNET") or "/usr/share/wordnet"
    folder = os.path.join(work_dir, "wordnet")
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(source):
        link = os.path.join(folder, name)
        if not os.path.exists(link):
            os.symlink(os.path.join(source, name), link)
    with open(os.path.join(folder, "lexnames"), "w") as out:
        for index in range(64):
            out.write(f"{index:02d}\tlexfile{index}\t0\n")
    return WordNetCorpusReader(folder, None)


class NoSynonyms:
    def synsets(self, word):
        return []


def lcs_table(x, y):
    table = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
    for i in range(1, len(x) + 1):
        for j in range(1, len(y) + 1):
            table[i][j] = table[i - 1][j - 1] + 1 if x[i - 1] == y[j - 1] else max(table[i - 1][j], table[i][j - 1])
    return table


def rouge_l_sentence(references, hypothesis):
    best = 0.0
    for reference in references:
        lcs = lcs_table(hypothesis, reference)[len(hypothesis)][len(reference)]
        if lcs:
            p, r = lcs / len(hypothesis), lcs / len(reference)
            best = max(best, 2 * p * r / (p + r))
    return best


def traced_lcs_words(x, y):
    table = lcs_table(x, y)
    i, j, words = len(x), len(y), []
    while i and j:
        if x[i - 1] == y[j - 1]:
            words.append(x[i - 1])
            i, j = i - 1, j - 1
        elif table[i - 1][j] > table[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return words


def summary_sentences(text):
    return [" ".join(piece.split()).split(" ") for piece in text.split(".") if piece]


def rouge_l_summary(hypothesis, reference):
    hyp, ref = summary_sentences(hypothesis), summary_sentences(reference)
    if not hyp or not ref:
        return 0.0
    union = set()
    for r in ref:
        for h in hyp:
            union.update(traced_lcs_words(r, h))
    recall = len(union) / len({w for s in ref for w in s})
    precision = len(union) / len({w for s in hyp for w in s})
    return 2.0 * ((precision * recall) / (precision + recall + 1e-8))


def recall(reference, hypothesis):
    ref = set(reference)
    return len(set(hypothesis) & ref) / len(ref) if ref else 0.0


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    wordnet = wordnet_reader(sys.argv[2])
    warnings.simplefilter("ignore")  # corpus_bleu warns about zero n-gram counts
    pairs = []
    for pair in cases["pairs"]:
        hyp = pair["hypothesis"].split()
        refs = [r.split() for r in pair["references"]]
        pairs.append({
            "meteor": meteor_score(refs, hyp, wordnet=wordnet),
            "meteor_exact_stem": meteor_score(refs, hyp, wordnet=NoSynonyms()),
            "rouge_l": rouge_l_sentence(refs, hyp),
            "rouge_l_summary": rouge_l_summary(pair["hypothesis"], pair["references"][0]),
            "recall": recall(refs[0], hyp),
        })
    corpora = []
    for corpus in cases["corpora"]:
        refs = [[r.split() for r in cases["pairs"][i]["references"]] for i in corpus]
        hyps = [cases["pairs"][i]["hypothesis"].split() for i in corpus]
        corpora.append(float(corpus_bleu(refs, hyps)))
    stemmer = PorterStemmer()
    stems = [stemmer.stem(word) for word in cases["words"]]
    lemma_names = [sorted({l.name() for s in wordnet.synsets(word) for l in s.lemmas()}) for word in cases["words"]]
    json.dump({"pairs": pairs, "corpora": corpora, "stems": stems, "lemma_names": lemma_names}, sys.stdout)


main()
