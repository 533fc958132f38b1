"""Words, Danish stems, the query language and highlighting: the text side of search, no database.

Both backends see the same words. Text is split here into runs of letters and digits, lowercased,
and handed to the database as those words separated by spaces:

- SQLite (FTS5 has no Danish stemmer): the words are stemmed here with Snowball's Danish stemmer
  and the stems are what FTS5 indexes; the query is stemmed the same way.
- PostgreSQL: the words go through `to_tsvector('danish', …)` / `to_tsquery('danish', …)`, whose
  stemmer is the same Snowball algorithm, so PostgreSQL's own parser (which would read
  "2026-000012" as "2026" and "-000012", or an e-mail address as one word) never splits
  differently from SQLite.

The query language is small and never fails: words are AND-ed, "a quoted phrase" is a phrase, a
trailing * makes the last word a prefix, and every other character (AND, OR, NEAR, parentheses,
a minus, a stray quote) is only a separator or an ordinary word, because every word is sent quoted.
"""
from __future__ import annotations

import html
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

MAX_QUERY_CHARS = 1000  # a longer query is cut, not refused: a search box answers, it does not fail
MAX_CLAUSES = 24
MAX_PHRASE_WORDS = 16
MAX_WORD_CHARS = 100  # longer "words" (base64, hashes) are not indexed on either backend

_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" separates, as in FTS5's unicode61
_CPR_LIKE = re.compile(r"(\d{6})-?(\d{4})", re.ASCII)
_CHUNK = re.compile(r'"([^"]*)("?)|([^\s"]+)')

# The Snowball Danish stop words (PostgreSQL's danish.stop): PostgreSQL drops them from queries, so
# they are dropped from queries here too and both backends answer "af" alike (with nothing).
STOP_WORDS = frozenset(
    """og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om vi
    min havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle
    vil blev kunne ind når være dog noget ville jo deres efter ned skulle denne end dette mit også
    under have dig anden hende mine alt meget sit sine vor mod disse hvis din nogle hos blive mange
    ad bliver hendes været thi jer sådan""".split()
)

_local = threading.local()  # Snowball stemmer objects keep state, so one per thread


def _stemmer():
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("danish")
    return stemmer


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Danish stem of a lowercased word; words with digits are kept whole (as PostgreSQL does).

    Snowball's Danish stemmer only ever cuts letters off the end, so a stem is a prefix of its word.
    """
    if not word.isalpha():
        return word
    return _stemmer().stemWord(word)


def words(text: str | None) -> list[str]:
    """The lowercased words of a text, in order."""
    if not text:
        return []
    text = unicodedata.normalize("NFC", text).lower()
    return [w for w in _WORD.findall(text) if len(w) <= MAX_WORD_CHARS]


def plain_text(text: str | None) -> str:
    """The words separated by spaces: what PostgreSQL's to_tsvector('danish', …) is given."""
    return " ".join(words(text))


# PostgreSQL refuses a tsvector over 1 MB; what a list of words becomes is estimated on the high side
# (each distinct lexeme with its header, two bytes per position up to 256) and cut to stay under.
TSVECTOR_BUDGET = 900_000


def fit_tsvector(found: list[str], budget: int = TSVECTOR_BUDGET) -> list[str]:
    """The leading words whose tsvector surely fits in `budget` bytes (all of them, normally)."""
    if 4 * sum(map(len, found)) + 10 * len(found) <= budget:  # fits even if every word were new and 4-byte UTF-8
        return found
    size, seen = 0, {}
    for i, word in enumerate(found):
        n = seen.get(word, 0)
        if n == 0:
            size += len(word.encode()) + 8
        if n < 256:
            size += 2
        seen[word] = n + 1
        if size > budget:
            return found[:i]
    return found


def stemmed_text(text: str | None) -> str:
    """The stems separated by spaces: what SQLite's FTS5 table indexes."""
    return " ".join(stem(w) for w in words(text))


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Phrase:
    """One word, or words that must follow each other; the last one a prefix if `prefix`."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """Clauses that must all match; a clause matches if any of its phrases does."""

    clauses: tuple[tuple[Phrase, ...], ...]

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def fts5(self, columns: tuple[str, ...] = ()) -> str:
        """An FTS5 MATCH expression over stems; every stem quoted, so no word is an operator."""
        expr = " AND ".join(_fts5_clause(c) for c in self.clauses)
        if columns:
            expr = "{%s} : (%s)" % (" ".join(columns), expr)
        return expr

    def tsquery(self, weights: str = "") -> str:
        """A to_tsquery text over the words (PostgreSQL stems them), quoted so none is an operator."""
        return " & ".join(_ts_clause(c, weights) for c in self.clauses)

    def highlight_terms(self) -> "Terms":
        exact, prefixes = set(), set()
        for clause in self.clauses:
            for phrase in clause:
                for i, word in enumerate(phrase.words):
                    if word in STOP_WORDS:
                        continue
                    is_prefix = phrase.prefix and i == len(phrase.words) - 1
                    (prefixes if is_prefix else exact).add(stem(word))
        return Terms(frozenset(exact), frozenset(prefixes))


def parse(q: str | None) -> ParsedQuery:
    """The user's text as clauses; never raises, whatever was typed."""
    clauses: list[tuple[Phrase, ...]] = []
    for match in _CHUNK.finditer((q or "")[:MAX_QUERY_CHARS]):
        quoted, _closing_quote, bare = match.groups()
        if quoted is not None:
            clause = _phrase_clause(quoted, quoted.rstrip().endswith("*"))
        else:
            cpr = _CPR_LIKE.fullmatch(bare.strip(".,;:()"))
            if cpr:
                # Indexed contacts carry the masked DDMMYY-xxxx; a document's text may hold the full
                # number. Either form matches; which of the two did is not told.
                born, serial = cpr.groups()
                clause = (Phrase((born, serial)), Phrase((born, "xxxx")))
            else:
                clause = _phrase_clause(bare, bare.rstrip(".,;:!?)]}'").endswith("*"))
        if clause:
            clauses.append(clause)
        if len(clauses) >= MAX_CLAUSES:
            break
    return ParsedQuery(tuple(dict.fromkeys(clauses)))


def _phrase_clause(text: str, prefix: bool) -> tuple[Phrase, ...]:
    found = words(text)[:MAX_PHRASE_WORDS]
    if not found or (not prefix and all(w in STOP_WORDS for w in found)):
        return ()
    return (Phrase(tuple(found), prefix),)


def _fts5_clause(clause: tuple[Phrase, ...]) -> str:
    parts = [_fts5_phrase(p) for p in clause]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _fts5_phrase(phrase: Phrase) -> str:
    text = " + ".join('"%s"' % stem(w).replace('"', '""') for w in phrase.words)
    return text + "*" if phrase.prefix else text


def _ts_clause(clause: tuple[Phrase, ...], weights: str) -> str:
    parts = [_ts_phrase(p, weights) for p in clause]
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _ts_phrase(phrase: Phrase, weights: str) -> str:
    last = len(phrase.words) - 1
    out = []
    for i, word in enumerate(phrase.words):
        label = ("*" if phrase.prefix and i == last else "") + weights
        quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
        out.append(f"{quoted}:{label}" if label else quoted)
    return out[0] if len(out) == 1 else "(" + " <-> ".join(out) + ")"


# ---------------------------------------------------------------- highlighting


@dataclass(frozen=True)
class Terms:
    """The stems to mark: words whose stem equals one in `exact` or starts with one in `prefixes`."""

    exact: frozenset[str]
    prefixes: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)

    def matches(self, word: str) -> bool:
        s = stem(word)
        return s in self.exact or any(s.startswith(p) for p in self.prefixes)

    def spans(self, text: str, limit: int | None = None) -> list[tuple[int, int, str]]:
        """(start, end, stem) of the words in `text` that match, the first `limit` of them.

        A stem is a prefix of its word, so only words starting with a query stem can match: the
        stems are searched for as plain strings (fast), and only the words found there are stemmed.
        """
        if not self or not text:
            return []
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lowercase to two; keep offsets right
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        found = []
        for m in _finder_for(self.exact | self.prefixes).finditer(lowered):
            b = m.start()
            if b and _WORD_CHAR.match(lowered, b - 1):
                continue  # inside a word
            word = _WORD.match(lowered, b).group()
            if self.matches(word):
                found.append((b, b + len(word), stem(word)))
                if limit is not None and len(found) >= limit:
                    break
        return found


_WORD_CHAR = re.compile(r"[^\W_]")


@lru_cache(maxsize=512)
def _finder_for(stems: frozenset[str]) -> re.Pattern:
    return re.compile("|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)))


def mark(text: str | None, terms: Terms) -> str:
    """The whole text, HTML-escaped, with matching words in <mark>."""
    text = text or ""
    return _marked(text, terms.spans(text), 0, len(text))


_SPACE = re.compile(r"\s+")
SNIPPET_SPANS = 64  # matches looked at to place a snippet; enough to find the best cluster


def snippet(text: str | None, terms: Terms, width: int = 240) -> str:
    """About `width` characters of the text around its best cluster of matches, HTML-escaped,
    matches in <mark>, "…" where text was cut; the text's beginning if nothing matches."""
    text = text or ""
    first = _SPACE.match(text)
    lead = first.end() if first else 0
    if lead == len(text):
        return ""
    spans = terms.spans(text, SNIPPET_SPANS)
    start = lead
    if spans:
        start = max(lead, _best_window(spans, width) - width // 4)
        if start > lead:  # begin at a word, unless that skips the first match
            gap = _SPACE.search(text, start, spans[0][0])
            start = gap.end() if gap else start
    end = min(len(text), start + width)
    if end < len(text):  # end at a word
        cut = text.rfind(" ", start + width // 2, end)
        end = cut if cut > 0 else end
    inner = [sp for sp in spans if sp[0] >= start and sp[1] <= end]
    html_text = _SPACE.sub(" ", _marked(text, inner, start, end)).strip()
    return ("…" if start > lead else "") + html_text + ("…" if text[end:].strip() else "")


def _best_window(spans: list[tuple[int, int, str]], width: int) -> int:
    """The start of the match that begins the window holding the most different matched stems."""
    reach = width * 3 // 4
    counts: dict[str, int] = {}
    best, best_count, j = spans[0][0], 0, 0
    for i, (start, _, stem_i) in enumerate(spans):
        while j < len(spans) and (j <= i or spans[j][1] <= start + reach):
            counts[spans[j][2]] = counts.get(spans[j][2], 0) + 1
            j += 1
        if len(counts) > best_count:
            best, best_count = start, len(counts)
        counts[stem_i] -= 1
        if not counts[stem_i]:
            del counts[stem_i]
    return best


def _marked(text: str, spans: list[tuple[int, int, str]], start: int, end: int) -> str:
    out, pos = [], start
    for b, e, _ in spans:
        if b < pos or e > end:
            continue
        out.append(html.escape(text[pos:b]))
        out.append("<mark>" + html.escape(text[b:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    return "".join(out)
