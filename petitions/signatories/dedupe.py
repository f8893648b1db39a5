"""Find the same signatory written in different spellings and scripts (Latin Azerbaijani, English, Cyrillic)."""
from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

# Chosen with bench/dedupe.py on tests/data/dedupe_tuning.csv: just above its highest-scoring pair of
# different people (one letter apart in a 7-8 letter surname, 0.894). tests/test_dedupe.py scores it on the
# held-out pairs (tests/data/dedupe_heldout.csv), which the choice never saw.
THRESHOLD = 0.90

INITIAL_SIM = 0.75  # "T." vs "Tofiq": compatible, yet never enough on its own
GENDER_SIM = 0.5  # "Samir"/"Samira", "Hasanov"/"Hasanova": relatives, not spellings
SINGLE_TOKEN_WEIGHT = 0.85  # one word is weak evidence even when it matches exactly
PARTIAL_WEIGHT = 0.6  # one word against a full name
EXTRA_TOKEN_PENALTY = 0.03  # a middle name or patronymic on one side only
MAX_TOKENS = 5
AFF_BONUS = 0.05  # same affiliation: supporting evidence
AFF_PENALTY = 0.02  # clearly different affiliations: people move, so only a nudge
AFF_SAME = 0.8
AFF_DIFFERENT = 0.45

# Russian and Azerbaijani Cyrillic to an intermediate Latin with digraphs; the digraphs are folded below
# together with those of English-style transliterations ("kh", "sh", "zh").
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
    "ә": "a", "ғ": "gh", "ҝ": "g", "һ": "h", "ј": "y", "ө": "o", "ү": "u", "ҹ": "dzh", "ҙ": "z", "қ": "k",
    "ң": "n", "ұ": "u",
}
# Azerbaijani and Turkish Latin letters; the rest of the world's scripts go through anyascii.
_TURKIC_LATIN = {"ə": "a", "ä": "a", "ı": "i", "ş": "sh", "ç": "ch", "ğ": "gh", "ö": "o", "ü": "u"}
_CHAR_MAP = str.maketrans({**_CYRILLIC, **_TURKIC_LATIN, "'": "", "’": "", "ʼ": "", "`": ""})
_TURKIC_LETTER_RE = re.compile(r"[əığşçöüәғҹһјөүҝ]|q(?!u)")
# Endings of Azerbaijani and Russian surnames; -li/-lu only on long words, or "Emily" and "Natali" would count.
_TURKIC_SUFFIX_RE = re.compile(r"(?:ov|ova|ev|eva|zade|zadeh|zada|oglu|ogly|oghlu)\b|\b[a-z]{4,}l[iu]\b")

_TITLES = frozenset(
    "dr prof mr mrs ms miss sir phd md jr sr ii iii bey xanim hanim muallim dokt doktor professor "
    "gospodin gospozha akademik".split()
)
_PATRONYMIC_MARKERS = frozenset(
    "oglu ogly oghlu ohlu ogli gizi qizi kizi kyzy gyzy ghizi kizy".split()
)
_RU_PATRONYMIC_RE = re.compile(r"(?:ovich|evich|ovna|evna|ichna|inichna)$")
_SPLIT_RE = re.compile(r"[^a-z\-]+")
_DIGRAPHS = (
    ("shch", "s"), ("sch", "s"), ("tch", "j"), ("dzh", "j"), ("dj", "j"), ("zh", "j"), ("ch", "j"),
    ("sh", "s"), ("kh", "g"), ("gh", "g"), ("ph", "f"), ("th", "t"),
)
_GERMAN = (("ue", "u"), ("oe", "o"), ("ae", "a"))  # Mueller = Müller; not for Rzaeva or Mirzoev
_SOFT_VOWEL_RE = re.compile(r"(?<=[bcdfgjklmnpqrstvz])y(?=[aeiou])")  # "Gyulnara", "Nigyar": softness, not a sound
_DOUBLE_RE = re.compile(r"(.)\1+")
_EV_RE = re.compile(r"ev(a?)$")
# Russian е after a vowel and at the start carries the y: Абдуллаев = Abdullayev, Елена = Yelena.
_GLIDE_RE = re.compile(r"(?<=[aiou])y(?=e)|^y(?=[aeiou])")


def _fold_token(tok: str, letters: bool, suffix: bool) -> str:
    """Fold one lowercase Latin token to its spelling-insensitive skeleton.

    `letters`: the name has Azerbaijani/Turkish letters; `suffix`: it has a Turkic or Russian surname ending.
    """
    for src, dst in _DIGRAPHS:
        if src in tok:
            tok = tok.replace(src, dst)
    if not (letters or suffix):
        for src, dst in _GERMAN:
            tok = tok.replace(src, dst)
    # Azerbaijani x is "kh" (Xəlil = Khalil), but "Alexander" is "ks": only letters or a leading x tell.
    tok = "g" + tok[1:] if tok.startswith("x") else tok
    tok = tok.replace("x", "g" if letters else "ks")
    if letters or suffix:
        tok = tok.replace("c", "j").replace("q", "g")  # Azerbaijani c is "j": Cavid = Javid = Джавид
    else:
        tok = tok.replace("ck", "k").replace("qu", "kv").replace("q", "k")
        tok = re.sub(r"c(?=[eiy])", "s", tok).replace("c", "k")
    if len(tok) > 2 and tok.endswith("h") and tok[-2] in "aeiou":
        tok = tok[:-1]  # Sarah = Sara, Alizadeh = Alizade
    tok = _SOFT_VOWEL_RE.sub("", tok)
    tok = _GLIDE_RE.sub("", tok)
    tok = _EV_RE.sub(r"ov\1", tok)  # Russian writes -ев after soft consonants: Orucov = Оруджев
    # Russian renders Azerbaijani h and q as г, ə as а or е, ı and y as ы/и/й: merge those classes.
    tok = tok.translate(_CLASS_MAP)
    return _DOUBLE_RE.sub(r"\1", tok)


# Azerbaijani q is g in English, г, к or х in Russian (Тофик, Кулиев, Садыхов): k, g, q, h and x are one class.
_CLASS_MAP = str.maketrans({"h": "g", "k": "g", "w": "v", "y": "i", "e": "a"})


@lru_cache(maxsize=262_144)
def _tokens(name: str) -> tuple[str, ...]:
    """Return the folded name parts of `name` without titles and patronymics."""
    text = unicodedata.normalize("NFC", name or "").replace("İ", "i").lower()
    letters = bool(_TURKIC_LETTER_RE.search(text))
    text = anyascii(text.translate(_CHAR_MAP)).lower()
    suffix = bool(_TURKIC_SUFFIX_RE.search(text))
    raw: list[str] = []
    for part in _SPLIT_RE.split(text):
        # "Ahmad-oglu" and "Ali-zade" are one surname; "Müller-Lüdenscheidt" is two comparable parts.
        pieces = [p for p in part.split("-") if p]
        for piece in pieces:
            if raw and (piece in _PATRONYMIC_MARKERS or piece == "zade") and "-" in part:
                raw[-1] += piece
            else:
                raw.append(piece)
    raw = [t for t in raw if t not in _TITLES]
    marker = next((i for i, t in enumerate(raw) if t in _PATRONYMIC_MARKERS), None)
    if marker is not None and len(raw) >= 3:
        # "Qasımov Tofiq Rauf oğlu": the father's name and the marker say nothing about this person.
        del raw[max(marker - 1, 0) : marker + 1]
    if len(raw) >= 3:
        raw = [t for t in raw if not _RU_PATRONYMIC_RE.search(t)] or raw
    folded = (_fold_token(t, letters, suffix) for t in raw)
    return tuple(t for t in folded if t)[:MAX_TOKENS]


def translit_key(name: str) -> str:
    """Return the spelling- and script-insensitive key of a name, parts in their written order."""
    return " ".join(_tokens(name))


def _token_sim(a: str, b: str) -> float:
    """Return how alike two folded name parts are, 0..1."""
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return INITIAL_SIM if a[0] == b[0] else 0.0
    if len(a) > len(b):
        a, b = b, a
    # The feminine form differs by a trailing "a" ("aia" for -skaya/-sky): a sister or wife, not a typo.
    if len(a) >= 3 and (b == a + "a" or (b.endswith("aia") and a.endswith("i") and b[:-3] == a[:-1])):
        return GENDER_SIM
    return Levenshtein.normalized_similarity(a, b)


def _name_score(ta: Sequence[str], tb: Sequence[str]) -> float:
    """Return how likely two folded token lists name the same person, 0..1, order-insensitive."""
    if not ta or not tb:
        return 0.0
    if len(ta) > len(tb):
        ta, tb = tb, ta
    sims = [[_token_sim(a, b) for b in tb] for a in ta]
    if len(ta) == 1:
        return max(sims[0]) * (SINGLE_TOKEN_WEIGHT if len(tb) == 1 else PARTIAL_WEIGHT)
    best = 0.0
    for perm in itertools.permutations(range(len(tb)), len(ta)):
        parts = [sims[i][j] for i, j in enumerate(perm)]
        # The weakest part dominates: relatives share a surname, namesakes share a given name.
        best = max(best, 0.7 * min(parts) + 0.3 * sum(parts) / len(parts))
    return max(0.0, best - EXTRA_TOKEN_PENALTY * (len(tb) - len(ta)))


@lru_cache(maxsize=65_536)
def _affiliation_key(affiliation: str) -> str:
    """Return a lowercase ASCII form of an affiliation for comparison."""
    text = anyascii(unicodedata.normalize("NFC", affiliation or "").lower().translate(_CHAR_MAP)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


affiliation_key = _affiliation_key


def _affiliation_adjustment(a: str, b: str) -> float:
    """Return the score change that two normalised affiliations justify."""
    if not a or not b:
        return 0.0
    sim = fuzz.token_set_ratio(a, b) / 100
    if sim >= AFF_SAME:
        return AFF_BONUS * (sim - AFF_SAME) / (1 - AFF_SAME)
    return -AFF_PENALTY if sim < AFF_DIFFERENT else 0.0


def similarity(a_name: str, a_affil: str | None, b_name: str, b_affil: str | None) -> float:
    """Return 0..1: how likely two signatures (name, affiliation) are the same person."""
    score = _name_score(_tokens(a_name), _tokens(b_name))
    score += _affiliation_adjustment(_affiliation_key(a_affil or ""), _affiliation_key(b_affil or ""))
    return min(1.0, max(0.0, score))


class _UnionFind:
    """Disjoint sets over 0..n-1 with path halving."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _union_by_affiliation(
    uf: _UnionFind, score: float, affs_a: dict[str, int], affs_b: dict[str, int], threshold: float
) -> None:
    """Join records of two name groups whose affiliations lift a borderline name score to the threshold."""
    for ka, ia in affs_a.items():
        for kb, ib in affs_b.items():
            if score + _affiliation_adjustment(ka, kb) >= threshold:
                uf.union(ia, ib)


def find_duplicate_groups(
    records: Iterable[tuple[str, str | None]], threshold: float = THRESHOLD
) -> list[list[int]]:
    """Return sorted groups (size >= 2) of indices of records that are probably the same person.

    Records with identical keys are compared once per distinct affiliation; distinct keys are only
    compared when they share one whole name part and the first letter of another (blocking), and a
    C++ prefilter drops pairs whose remaining parts are far apart. So a pair whose every part is
    misspelled is not found, but 100,000 records take seconds, not hours.
    """
    by_key: dict[tuple[str, ...], list[int]] = defaultdict(list)
    affs: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)  # distinct affiliations -> first record
    aff_of: list[str] = []
    for i, (name, affiliation) in enumerate(records):
        aff_of.append(_affiliation_key(affiliation or ""))
        tokens = tuple(sorted(_tokens(name or "")))
        if tokens:
            by_key[tokens].append(i)
            affs[tokens].setdefault(aff_of[i], i)
    uf = _UnionFind(len(aff_of))

    for tokens, members in by_key.items():
        if len(members) < 2:
            continue
        self_score = _name_score(tokens, tokens)
        if self_score - AFF_PENALTY >= threshold:
            for m in members[1:]:
                uf.union(members[0], m)
            continue
        # A lone word ("Madonna") is the same person only where the affiliations agree.
        for m in members:
            first = affs[tokens][aff_of[m]]
            if self_score + _affiliation_adjustment(aff_of[m], aff_of[m]) >= threshold:
                uf.union(first, m)
        _union_by_affiliation(uf, self_score, affs[tokens], affs[tokens], threshold)

    keys = [k for k in by_key if len(k) >= 2]  # a one-word name is only grouped with the very same word
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for kid, tokens in enumerate(keys):
        for t in set(tokens):
            for initial in {u[0] for u in tokens if u != t}:
                blocks[(t, initial)].append(kid)

    seen: set[int] = set()
    nkeys = len(keys)
    for (shared, _), kids in blocks.items():
        if len(kids) < 2:
            continue
        rests = [" ".join(t for t in keys[k] if t != shared) for k in kids]
        for pos, kid in enumerate(kids[:-1]):
            later = rests[pos + 1 :]
            # token_set_ratio forgives an extra middle name; pairs below 60 never score near the threshold.
            hits = process.extract(rests[pos], later, scorer=fuzz.token_set_ratio, score_cutoff=60, limit=None)
            for _, _, off in hits:
                other = kids[pos + 1 + off]
                pair = min(kid, other) * nkeys + max(kid, other)
                if pair in seen:
                    continue
                seen.add(pair)
                score = _name_score(keys[kid], keys[other])
                if score - AFF_PENALTY >= threshold:
                    uf.union(by_key[keys[kid]][0], by_key[keys[other]][0])
                elif score + AFF_BONUS >= threshold:
                    _union_by_affiliation(uf, score, affs[keys[kid]], affs[keys[other]], threshold)

    groups: dict[int, list[int]] = defaultdict(list)
    for members in by_key.values():
        for m in members:
            groups[uf.find(m)].append(m)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)

