"""Line-level labelled data from real scraped web pages (issue 18), for benchmarks and training.

    from benchmarks.scraped_lines import load_lines
    pages = load_lines(split="dev", extractor="trafilatura")    # list[Page]

The pages (../shared/data/web/pages.jsonl.gz) are run through a real extractor, the output is
split into lines, and every line is labelled by whether people marked its text as the page's
main content. Extraction is slow (minutes), so its output, the labels and the split of sites
into dev and test are cached outside the repository, under ~/.cache/coherence-bench/scraped/
(or $COHERENCE_BENCH_CACHE), keyed by a hash of the data file and the extractor versions:
training code that reads `load_lines(split="dev")` later sees exactly the lines the benchmark
scored, and never a site of the test split.

Labels: 0 content, 1 leftover, -1 excluded (L3S-GN1 class 3, supplemental: captions, dates and
bylines that belong to the article but are not its text). L3S-GN1 lines also carry their
class (0 not content, 1 headline, 2 full text, 3 supplemental, 4 related content, 5 comments).

User comments: the data sets disagree. L3S-GN1 marks them (class 5, leftover), Readability's
expected output and CleanEval's leave them out, and the data README counts them as stray
content; Dragnet's gold as merged is its content-and-comments variant, so nearly half of its
trafilatura article lines (which keeps comments by default) are readers' comments. A line of
a plain-gold page's comment section (`comment_section`: what trafilatura returns as the
comments, and every line shown only inside a comment container), and that the gold holds, is
therefore excluded (-1) rather than counted as article on one data set and as a leftover on
another; `Page.comment` marks every line of the comment section. Before label version 5 only
the comments trafilatura returned counted, which left out their authors, dates and every
container after the first: on the test pages 2,340 trafilatura lines and 6,593 whole-page lines
(nearly all on Dragnet's blogs, read through by a person in samples of 40) moved from article to
excluded.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html as htmllib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "web" / "pages.jsonl.gz"
CACHE_ROOT = Path(os.environ.get("COHERENCE_BENCH_CACHE", Path.home() / ".cache" / "coherence-bench")) / "scraped"
LABEL_VERSION = 5  # bump when labelling, site finding or splitting changes: a new cache key
# 2: lines matched with spaces removed too (CleanEval gold glues words at hard line breaks)
# 3: comment-section lines that a plain gold holds are excluded (see "User comments" above)
# 4: a line of 1-2 words is content only where it sits in the gold beside a neighbour (`placed`)
# 5: the comment section also holds every line shown only inside a comment container (`comment_section`)
JOINED_MIN_WORDS = 4  # shorter lines could match across words by chance once spaces are gone
SPLIT_SEED = 18  # issue 18
EXTRACTORS = {
    "trafilatura": "trafilatura.extract(html) with its defaults",
    "trafilatura-datatrove": "trafilatura.extract as datatrove's Trafilatura step calls it (favor_precision, no comments, deduplicate)",
    "whole-page": "html_text.extract_text(html): every visible line of the page",
}
COMMENTS = "comment-section"  # not an extractor: the page's readers' comments, for labelling
OPENING_WORDS = 6  # a gold line this long opens the article: a container holding it is no comment section
CONTENT, LEFTOVER, EXCLUDED = 0, 1, -1
L3S_CLASSES = {0: "not content", 1: "headline", 2: "full text", 3: "supplemental", 4: "related content", 5: "user comments"}
L3S_CONTENT, L3S_EXCLUDED = {1, 2}, {3}
MIXED_RUN = 6  # words a leftover line must share in a row with gold to count as mixed
_NON_WORD = re.compile(r"\W+")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_L3S_CLASS = re.compile(r"\bx-nc-sel(\d)\b")
_CLEANEVAL_MARK = re.compile(r"<\s*/?\s*[phl]\s*>", re.IGNORECASE)
# hosts that link from nearly every page and say nothing about whose page it is
_SHARE_HOSTS = (
    "facebook.com", "twitter.com", "google.com", "digg.com", "delicious.com", "del.icio.us", "reddit.com",
    "stumbleupon.com", "addthis.com", "w3.org", "youtube.com", "linkedin.com", "myspace.com", "technorati.com",
    "feedburner.com", "doubleclick.net", "newsvine.com", "yahoo.com", "adobe.com", "macromedia.com",
    "wordpress.org", "blogger.com", "creativecommons.org", "sharethis.com", "pinterest.com",
)


@dataclass
class Page:
    """One page's extracted lines with their labels, and where the page comes from."""

    key: str  # dataset/id, unique across the merged data sets
    dataset: str
    id: str
    site: str
    split: str  # "dev" or "test", grouped by site
    lines: list[str]
    labels: list[int]  # CONTENT, LEFTOVER or EXCLUDED per line
    l3s_class: list[int] | None = None  # L3S-GN1 pages only
    ambiguous: list[bool] = field(default_factory=list)  # gold match conflicting or by chance
    mixed: list[bool] = field(default_factory=list)  # leftover, yet shares a run of words with gold
    comment: list[bool] = field(default_factory=list)  # in the comment section trafilatura finds


# -- normalisation and gold text ------------------------------------------------------------
def normalise(text: str) -> str:
    """Lower case, runs of non-word characters as one space: extractors differ in spacing,
    punctuation and entities, not in words."""
    return _NON_WORD.sub(" ", text.lower()).strip()


def xml_safe(text: str) -> str:
    """Without the control characters and lone surrogates lxml refuses (a few crawled pages
    carry them; a browser ignores them too)."""
    return _NOT_XML.sub("", text)


def visible_text(html: str) -> str:
    """The text a browser shows, line by line (html-text, the same tool as the whole-page dump)."""
    import html_text

    html = xml_safe(html)
    return html_text.extract_text(html) if html.strip() else ""


def cleaneval_text(gold: str) -> str:
    """CleanEval gold without its `URL:` line and block markers, entities decoded."""
    lines = gold.splitlines()
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    return htmllib.unescape(_CLEANEVAL_MARK.sub("\n", "\n".join(lines)))


def gold_text(page: dict[str, Any]) -> str:
    """The page's main text as people marked it (not for l3s-html: see `l3s_blocks`)."""
    fmt, gold = page["gold_format"], page["gold"] or ""
    if fmt == "text":
        return gold
    if fmt == "cleaneval":
        return cleaneval_text(gold)
    if fmt == "html":
        return visible_text(gold)
    raise ValueError(f"no plain gold text for format {fmt!r}")


def l3s_blocks(gold_html: str) -> list[tuple[str, int]]:
    """(normalised text, class) of every x-nc-sel span in document order; text of a span
    nested in another belongs to the inner one."""
    import lxml.html

    gold_html = xml_safe(gold_html)
    if not gold_html.strip():
        return []
    root = lxml.html.fromstring(gold_html)
    blocks: list[tuple[str, int]] = []
    for element in root.iter("span"):
        match = _L3S_CLASS.search(element.get("class") or "")
        if match is None:
            continue
        text = normalise(" ".join(_own_text(element)))
        if text:
            blocks.append((text, int(match.group(1))))
    return blocks


def _own_text(element: Any) -> Iterator[str]:
    """Text under `element`, skipping scripts, styles and nested sel spans (their own blocks)."""
    if element.text:
        yield element.text
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        nested = tag == "span" and _L3S_CLASS.search(child.get("class") or "")
        if tag not in ("script", "style") and not nested:
            yield from _own_text(child)
        if child.tail:
            yield child.tail


class GoldIndex:
    """Finds a normalised line in the gold text at word boundaries, with its L3S class."""

    def __init__(self, blocks: Sequence[tuple[str, int]]) -> None:
        self.text = " " + " ".join(t for t, _ in blocks) + " "
        self.starts: list[int] = []  # start of each block in self.text
        self.classes = [c for _, c in blocks]
        position = 1
        for text, _ in blocks:
            self.starts.append(position)
            position += len(text) + 1

    def classes_of(self, line: str, limit: int = 50) -> list[int]:
        """The class covering most characters of each occurrence of `line` (first `limit`)."""
        import bisect

        needle, found, start = f" {line} ", [], self.text.find(f" {line} ")
        while start >= 0 and len(found) < limit:
            lo, hi = start + 1, start + 1 + len(line)
            first = bisect.bisect_right(self.starts, lo) - 1
            cover: Counter[int] = Counter()
            for b in range(max(first, 0), len(self.starts)):
                b_lo = self.starts[b]
                if b_lo >= hi:
                    break
                b_hi = b_lo + (self.starts[b + 1] - 1 - b_lo if b + 1 < len(self.starts) else len(self.text) - 1 - b_lo)
                cover[self.classes[b]] += max(0, min(hi, b_hi) - max(lo, b_lo))
            found.append(cover.most_common(1)[0][0] if cover else 0)
            start = self.text.find(needle, start + 1)
        return found


# -- labelling ------------------------------------------------------------------------------
def short(line: str) -> bool:
    """A line of 1-2 words matches gold by chance too easily to trust its label."""
    return len(line.split()) <= 2


def placed(lines: Sequence[str], i: int, in_gold: Callable[[str], bool]) -> bool:
    """Whether line `i` is in the gold where it is on the page: joined to the line before or
    after it, it occurs there too. A line of 1-2 words ("Home", "Reply", "Facebook") occurs
    somewhere in most golds by chance; a navigation list or a comment's controls do not occur
    beside their neighbours, while a heading or a list item of the article does. A page of one
    line has no neighbour and keeps the plain test."""
    if len(lines) < 2:
        return in_gold(lines[i])
    pairs = [f"{lines[i - 1]} {lines[i]}"] if i > 0 else []
    pairs += [f"{lines[i]} {lines[i + 1]}"] if i + 1 < len(lines) else []
    return any(in_gold(pair) for pair in pairs)


def shares_run(line: str, haystack: str, run: int = MIXED_RUN) -> bool:
    """Whether `run` consecutive words of the line occur in the (space-padded) gold: a line
    that joins article text with page furniture (one table cell holding both) is labelled
    leftover, yet part of it is article."""
    words = line.split()
    return any(f" {' '.join(words[i:i + run])} " in haystack for i in range(len(words) - run + 1))


def label_plain(lines: Sequence[str], gold: str) -> tuple[list[int], list[bool], list[bool]]:
    """Content when the normalised line occurs in the normalised gold at word boundaries, or,
    for a line of `JOINED_MIN_WORDS` or more, with every space removed from both: CleanEval's
    gold glues the words at the page's hard line breaks ("lastsummer they ... preciselythis"),
    so the wrapped lines of its article text would otherwise count as leftovers. A short line
    must also be `placed`."""
    haystack = f" {normalise(gold)} "
    joined = haystack.replace(" ", "")

    def in_gold(text: str) -> bool:
        return f" {text} " in haystack or (len(text.split()) >= JOINED_MIN_WORDS and text.replace(" ", "") in joined)

    labels = [
        CONTENT if in_gold(line) and (not short(line) or placed(lines, i, in_gold)) else LEFTOVER
        for i, line in enumerate(lines)
    ]
    mixed = [label == LEFTOVER and shares_run(line, haystack) for line, label in zip(lines, labels)]
    return labels, [short(line) for line in lines], mixed


def label_l3s(lines: Sequence[str], blocks: Sequence[tuple[str, int]]) -> tuple[list[int], list[int], list[bool], list[bool]]:
    """L3S class of each line (the class of the span(s) containing it, else 0) and its binary
    label. A line found under several classes takes a content class (1, 2) when one holds it,
    as a line in the gold elsewhere would count as content; such lines count as ambiguous. A short
    line takes a content class only when `placed` beside a neighbour in the article's blocks."""
    index = GoldIndex(blocks)
    article = " " + " ".join(t for t, c in blocks if c in L3S_CONTENT) + " "

    def in_article(text: str) -> bool:
        return f" {text} " in article

    labels, classes, ambiguous, mixed = [], [], [], []
    for i, line in enumerate(lines):
        found = set(index.classes_of(line))
        cls = _pick_class(found)
        if cls in L3S_CONTENT and short(line) and not placed(lines, i, in_article):
            cls = _pick_class(found - L3S_CONTENT)
        classes.append(cls)
        labels.append(CONTENT if cls in L3S_CONTENT else EXCLUDED if cls in L3S_EXCLUDED else LEFTOVER)
        ambiguous.append(len(found) > 1 or short(line))
        mixed.append(labels[-1] == LEFTOVER and shares_run(line, article))
    return labels, classes, ambiguous, mixed


def _pick_class(found: set[int]) -> int:
    """Content classes first, then supplemental, then the lowest other class; 0 when unseen."""
    for preferred in (2, 1, 3):
        if preferred in found:
            return preferred
    return min(found) if found else 0


def label_page(page: dict[str, Any], raw_lines: Sequence[str], site: str, split: str, comments: Sequence[str] = ()) -> Page:
    """Keep the lines with at least one word after normalising, and label them; `comments`
    are the lines of the page's comment section (see "User comments" above)."""
    kept = [line for line in raw_lines if normalise(line)]
    normal = [normalise(line) for line in kept]
    in_comments = {normalise(line) for line in comments} - {""}
    comment = [line in in_comments for line in normal]
    classes = None
    if page["gold_format"] == "l3s-html":
        labels, classes, ambiguous, mixed = label_l3s(normal, l3s_blocks(page["gold"] or ""))
    else:
        labels, ambiguous, mixed = label_plain(normal, gold_text(page))
        labels = [EXCLUDED if label == CONTENT and c else label for label, c in zip(labels, comment)]
    return Page(page_key(page), page["dataset"], str(page["id"]), site, split, kept, labels, classes, ambiguous, mixed, comment)


# -- extraction -----------------------------------------------------------------------------
def extract(html: str, extractor: str) -> list[str] | None:
    """The extractor's text split into stripped non-empty lines; None when it gives nothing
    or fails on the page (counted as a failed extraction, never a stopped run)."""
    if extractor not in EXTRACTORS:
        raise ValueError(f"unknown extractor {extractor!r}; one of {sorted(EXTRACTORS)}")
    html = xml_safe(html)
    try:
        if extractor == "whole-page":
            text = visible_text(html)
        else:
            options = {"favor_precision": True, "include_comments": False, "deduplicate": True} if extractor == "trafilatura-datatrove" else {}
            text = _trafilatura().extract(html, **options)
    except Exception:  # noqa: BLE001 - a page the extractor chokes on is a failed extraction
        text = None
    if not text:
        return None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _trafilatura() -> Any:
    """The trafilatura module, its per-page warnings silenced (a failed page is counted instead)."""
    import logging

    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    return trafilatura


def comment_section(html: str, opening: str | None = None) -> list[str] | None:
    """The lines of the page's readers' comments, for labelling; None when it has none.

    Two views joined: what trafilatura, at its defaults, returns as the comment section (the
    comments' paragraphs, from the first container its comment finder accepts), and every line
    shown inside an element trafilatura prunes as a comment container when comments are off
    (`REMOVE_COMMENTS_AND_LISTS_XPATH`: an id or class opening with "comment", Disqus,
    "post-comments"), which adds the comments' authors, dates and controls and the containers
    after the first. A container that holds `opening` (the gold's first line of
    `OPENING_WORDS`+ words) wraps the article, not its comments, and is skipped; a line also
    shown outside every container (an article line a comment quotes) is not a comment's.
    """
    html = xml_safe(html)
    lines: set[str] = set()
    try:
        document = _trafilatura().bare_extraction(html, with_metadata=False)
        lines.update((getattr(document, "comments", None) or "").splitlines())
        lines.update(_container_lines(html, opening))
    except Exception:  # noqa: BLE001 - a page lxml or trafilatura chokes on has no comment section
        return None
    kept = sorted(line.strip() for line in lines if normalise(line))
    return kept or None


def _container_lines(html: str, opening: str | None) -> set[str]:
    """Normalised lines shown only inside the page's comment containers (see `comment_section`)."""
    import html_text
    import lxml.html
    from trafilatura.xpaths import REMOVE_COMMENTS_AND_LISTS_XPATH

    if not html.strip():
        return set()
    tree = lxml.html.fromstring(html)
    containers, inside = [], set()
    for element in (e for expr in REMOVE_COMMENTS_AND_LISTS_XPATH for e in expr(tree)):
        shown = {normalise(line) for line in html_text.extract_text(element).splitlines()}
        if opening is not None and opening in normalise(" ".join(shown)):
            continue
        containers.append(element)
        inside |= shown
    for element in containers:
        element.drop_tree()
    outside = {normalise(line) for line in html_text.extract_text(tree).splitlines()}
    return inside - outside - {""}


def gold_opening(page: dict[str, Any]) -> str | None:
    """The normalised first line of a plain gold with `OPENING_WORDS`+ words (None for L3S-GN1,
    labelled by its own classes, or a gold without one)."""
    if page["gold_format"] == "l3s-html" or not page["gold"]:
        return None
    lines = (normalise(line) for line in gold_text(page).splitlines())
    return next((line for line in lines if len(line.split()) >= OPENING_WORDS), None)


def _extract_all(job: tuple[str, tuple[str, ...], str | None]) -> dict[str, list[str] | None]:
    """Worker: every requested extractor on one page (and its comment section)."""
    html, extractors, opening = job
    return {name: comment_section(html, opening) if name == COMMENTS else extract(html, name) for name in extractors}


def extractor_versions() -> dict[str, str]:
    """Versions that change extraction output, for the cache key and the report."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("trafilatura", "html-text", "lxml", "justext"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "missing"
    return out


# -- pages, sites and splits ----------------------------------------------------------------
def read_pages(data: Path = DEFAULT_DATA, limit: int | None = None) -> list[dict[str, Any]]:
    """Pages of the merged data set in file order; with `limit`, that many spread evenly
    through the file, so a quick run still sees every dataset."""
    with gzip.open(data, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    if limit is not None and limit < len(lines):
        lines = [lines[i * len(lines) // limit] for i in range(limit)]
    return [json.loads(line) for line in lines]


def page_key(page: dict[str, Any]) -> str:
    """Ids repeat across the merged data sets; dataset/id does not."""
    return f"{page['dataset']}/{page['id']}"


def _attr(tag: str, name: str) -> str | None:
    """Value of attribute `name` in one HTML tag's source."""
    match = re.search(rf"\b{name}\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", tag, re.IGNORECASE)
    return next((g for g in match.groups() if g is not None), None) if match else None


def _tags(html: str, tag: str, must: str) -> Iterator[str]:
    """Source of every `tag` whose text contains the regex `must` (e.g. rel=canonical)."""
    for match in re.finditer(rf"<{tag}\b[^>]*>", html, re.IGNORECASE):
        if re.search(must, match.group(0), re.IGNORECASE):
            yield match.group(0)


def host_of(url: str | None) -> str | None:
    """Host of an absolute http(s) URL, lower case, without port or a leading www."""
    if not url:
        return None
    match = re.match(r"\s*(?:https?:)?//([^/?#:\s\"'<>]+)", htmllib.unescape(url), re.IGNORECASE)
    if not match:
        return None
    host = match.group(1).lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host if "." in host else None


def site_of_host(host: str) -> str:
    """The registrable domain (news.bbc.co.uk and www.bbc.co.uk are one site)."""
    from tld import get_fld

    return get_fld(host, fix_protocol=True, fail_silently=True) or host


def find_site(page: dict[str, Any]) -> tuple[str, str]:
    """(site, where it was found): the crawl URL CleanEval recorded, then the page's own
    canonical link, og:url or base href, then the host most of its absolute links go to."""
    html, gold = page["html"] or "", page["gold"] or ""
    head = html[:200_000]
    candidates: list[tuple[str, Iterable[str | None]]] = []
    if page["gold_format"] == "cleaneval":
        first = gold.lstrip().split("\n", 1)[0]
        candidates.append(("cleaneval URL", [first[4:].strip() if first.startswith("URL:") else None]))
        candidates.append(("cleaneval text id", (_attr(t, "id") for t in _tags(head, "text", r"\bid="))))
    candidates += [
        ("canonical link", (_attr(t, "href") for t in _tags(head, "link", r"rel\s*=\s*[\"']?canonical"))),
        ("og:url", (_attr(t, "content") for t in _tags(head, "meta", r"og:url"))),
        ("base href", (_attr(t, "href") for t in _tags(head, "base", r"href"))),
    ]
    for source, urls in candidates:
        for url in urls:
            host = host_of(url)
            if host:
                return site_of_host(host), source
    hosts = Counter(
        site_of_host(h)
        for h in (host_of(u) for u in re.findall(r"<a\b[^>]*?\bhref\s*=\s*[\"']?(https?://[^\"'\s>]+)", html, re.IGNORECASE))
        if h
    )
    for site, _ in hosts.most_common():
        if not any(site == s or site.endswith("." + s) for s in _SHARE_HOSTS):
            return site, "most common link host"
    return f"page:{page_key(page)}", "none (the page is its own site)"


def split_of(site: str, seed: int = SPLIT_SEED) -> str:
    """dev or test by a seeded hash of the site: every page of a site lands on the same side."""
    digest = hashlib.sha256(f"{seed}:{site}".encode()).digest()
    return "dev" if digest[0] < 128 else "test"


# -- the cache ------------------------------------------------------------------------------
def file_hash(path: Path) -> str:
    """sha256 of the data file, so a changed file gets a new cache."""
    stat = Path(path).stat()
    return _file_hash(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _file_hash(path: str, size: int, mtime_ns: int) -> str:
    """Hashed once per file version and process (size and mtime are part of the key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir(data: Path = DEFAULT_DATA, limit: int | None = None) -> Path:
    """Folder for one data file, extractor versions and label version (and `limit`)."""
    versions = json.dumps(extractor_versions(), sort_keys=True)
    key = hashlib.sha256(f"{file_hash(data)}|{versions}|{LABEL_VERSION}|{SPLIT_SEED}".encode()).hexdigest()[:16]
    return CACHE_ROOT / (key if limit is None else f"{key}-sample{limit}")


def _write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Atomic gzipped JSONL: a killed run never leaves a half file that looks complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def build_sites(pages: Sequence[dict[str, Any]], folder: Path) -> dict[str, dict[str, str]]:
    """Site, its source and the split of every page, cached as sites.json."""
    path = folder / "sites.json"
    if path.exists():
        return json.loads(path.read_text())
    sites = {}
    for page in pages:
        site, source = find_site(page)
        sites[page_key(page)] = {"dataset": page["dataset"], "site": site, "source": source, "split": split_of(site)}
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sites, indent=0, sort_keys=True))
    return sites


def build_extractions(
    pages: Sequence[dict[str, Any]], extractors: Sequence[str], folder: Path, workers: int = 2, progress: Callable[[str], None] = print
) -> None:
    """Run the extractors whose output is not cached yet, `workers` processes, page order kept."""
    todo = tuple(e for e in extractors if not (folder / f"raw-{e}.jsonl.gz").exists())
    if not todo:
        return
    import multiprocessing
    import time

    started = time.perf_counter()
    jobs = ((p["html"] or "", todo, gold_opening(p) if COMMENTS in todo else None) for p in pages)
    out: dict[str, list[dict[str, Any]]] = {e: [] for e in todo}
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        results = pool.imap(_extract_all, jobs, chunksize=4) if pool is not None else map(_extract_all, jobs)
        for n, (page, result) in enumerate(zip(pages, results), 1):
            for name, lines in result.items():
                out[name].append({"key": page_key(page), "lines": lines})
            if n % 250 == 0:
                progress(f"  extracted {n}/{len(pages)} pages ({time.perf_counter() - started:.0f} s)")
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    for name, records in out.items():
        _write_jsonl(folder / f"raw-{name}.jsonl.gz", records)
    (folder / f"seconds-{'+'.join(todo)}.txt").write_text(f"{time.perf_counter() - started:.1f}\n")


def build_labels(pages: Sequence[dict[str, Any]], extractor: str, folder: Path, sites: dict[str, dict[str, str]]) -> None:
    """Label the cached extraction of every page; pages the extractor gave nothing keep no lines."""
    path = folder / f"lines-{extractor}.jsonl.gz"
    if path.exists():
        return
    raw = {r["key"]: r["lines"] for r in _read_jsonl(folder / f"raw-{extractor}.jsonl.gz")}
    comments = {r["key"]: r["lines"] for r in _read_jsonl(folder / f"raw-{COMMENTS}.jsonl.gz")}
    records = []
    for page in pages:
        key = page_key(page)
        info = sites[key]
        labelled = label_page(page, raw.get(key) or [], info["site"], info["split"], comments.get(key) or ())
        record = asdict(labelled)
        record["failed"] = raw.get(key) is None
        records.append(record)
    _write_jsonl(path, records)


def prepare(
    data: Path = DEFAULT_DATA,
    extractors: Sequence[str] = ("trafilatura", "whole-page"),
    limit: int | None = None,
    workers: int = 2,
    progress: Callable[[str], None] = print,
) -> Path:
    """Extract, find sites, split and label everything not cached yet; returns the cache folder."""
    folder = cache_dir(data, limit)
    missing = [e for e in extractors if not (folder / f"lines-{e}.jsonl.gz").exists()]
    if not missing and (folder / "sites.json").exists():
        return folder
    pages = read_pages(data, limit)
    sites = build_sites(pages, folder)
    build_extractions(pages, [*missing, COMMENTS] if missing else [], folder, workers, progress)
    for extractor in missing:
        build_labels(pages, extractor, folder, sites)
    (folder / "meta.json").write_text(
        json.dumps({"data": str(data), "limit": limit, "versions": extractor_versions(), "label_version": LABEL_VERSION, "split_seed": SPLIT_SEED}, indent=1)
    )
    return folder


def load_lines(
    split: str = "dev", extractor: str = "trafilatura", data: Path = DEFAULT_DATA, limit: int | None = None, with_failed: bool = False
) -> list[Page]:
    """Labelled lines of every page of `split` ("dev", "test" or "all"), extracting first when
    the cache has none. Pages the extractor gave nothing for are left out unless `with_failed`."""
    if split not in ("dev", "test", "all"):
        raise ValueError(f"split must be dev, test or all, got {split!r}")
    folder = prepare(data, (extractor,), limit)
    pages = []
    for record in _read_jsonl(folder / f"lines-{extractor}.jsonl.gz"):
        failed = record.pop("failed")
        if (split == "all" or record["split"] == split) and (with_failed or not failed):
            pages.append(Page(**record))
    return pages


def failed_keys(extractor: str, data: Path = DEFAULT_DATA, limit: int | None = None) -> set[str]:
    """Pages the extractor returned nothing for."""
    folder = prepare(data, (extractor,), limit)
    return {r["key"] for r in _read_jsonl(folder / f"lines-{extractor}.jsonl.gz") if r["failed"]}


def load_sites(data: Path = DEFAULT_DATA, limit: int | None = None) -> dict[str, dict[str, str]]:
    """Site, where it was found and split of every page (by dataset/id)."""
    return json.loads((prepare(data, (), limit) / "sites.json").read_text())
