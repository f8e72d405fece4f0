"""Feasibility probe for issue 18 (not shipped): how far text-only line evidence goes at
telling extraction leftovers from article lines. Per-line form, position and neighbour
features, plus how often a line repeats across a site's pages, fitted on the scraped
benchmark's dev pages (HistGradientBoosting and logistic regression, fixed seeds) and scored
on its test pages (sites disjoint). Measured 2026-12-02: test line AUROC 0.753 on
trafilatura output and 0.925 on whole-page text (0.763 / 0.913 without site repetition),
against the C4 rules' 0.652 / 0.745 in reports/scraped.md.

Needs the benchmark's cache (run `python -m benchmarks.scraped` first) and the `bench` extra.
Run: OMP_NUM_THREADS=1 python -m training.probes.line_features
"""
import math
import re
import time
from collections import Counter

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks import scraped_lines as sl

T0 = time.time()
STOP = frozenset(ENGLISH_STOP_WORDS)
WORD = re.compile(r"\w+", re.UNICODE)
TERMINAL = set('.!?"\'\u201d\u2019\u00bb)')
URL = re.compile(r"https?://|www\.|\b\w+\.(com|org|net|co\.uk|de|html?)\b", re.I)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
HANDLE = re.compile(r"(^|\s)@\w+")
SEPS = set("|\u00bb\u203a\u00b7\u2022/>\u2013\u2014:")
BULLET = re.compile(r"^\s*([-*\u2022\u00b7\u25aa\u25cf\u25ba\u25b6\u00bb\u203a\u25e6>]|\d+[.)]\s)")
CTA = re.compile(r"^\W*(subscribe|follow|sign ?up|sign ?in|share|click|read more|more|download|listen|watch|log ?in|log ?out|register|email|print|comment|reply|join|contact|view|see|back to|next|previous|home|search|tweet|like)\b", re.I)
CTA_ANY = re.compile(r"\b(subscribe|sign up|click here|read more|log ?in|register|newsletter|advertis\w*|share this|comments?|permalink|posted by|tags?:)\b", re.I)
MONTH = re.compile(r"\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?|nov(ember)?|dec(ember)?|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I)
DATEWORD = re.compile(r"\b(updated|published|posted|last modified|\d{1,2}:\d{2}|[ap]\.?m\.?\b|gmt|utc|edt|est|pst|yesterday|ago)\b", re.I)
NUMDATE = re.compile(r"\b(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|(19|20)\d\d)\b")
COPY = re.compile(r"\u00a9|\(c\)|copyright|all rights reserved", re.I)

LINE_FEATS = ["n_words", "n_chars", "log_chars", "ends_term", "ends_colon", "title_share", "cap_share", "upper_share",
              "digit_share", "alpha_share", "has_url", "has_email", "has_handle", "sep_count", "starts_bullet",
              "stop_density", "cta_start", "cta_any", "month", "dateword", "numdate", "copyright", "mean_wlen"]
CTX_FEATS = ["rel_pos", "log_page_lines", "in_body", "before_body", "after_body", "dist_body", "dist_body_rel",
             "body_len_rel", "prev_words", "prev_term", "prev_stop", "next_words", "next_term", "next_stop",
             "short_run", "page_rep", "page_term_share"]
SITE_FEATS = ["site_rep", "site_rep_share", "site_pages"]
FEATS = LINE_FEATS + CTX_FEATS + SITE_FEATS


def line_features(s):
    words = s.split()
    toks = WORD.findall(s)
    nw, nc = len(words), len(s)
    st = s.rstrip()
    last = st[-1] if st else ""
    ends_term = float(last in TERMINAL and not st.endswith("..."))
    low = [t.lower() for t in toks]
    nt = max(len(toks), 1)
    alpha = [t for t in toks if t[:1].isalpha()]
    na = max(len(alpha), 1)
    return [
        nw, nc, math.log1p(nc), ends_term, float(last == ":"),
        sum(t.istitle() for t in alpha) / na,
        sum(t[:1].isupper() for t in alpha) / na,
        sum(t.isupper() and len(t) > 1 for t in alpha) / na,
        sum(c.isdigit() for c in s) / max(nc, 1),
        sum(c.isalpha() for c in s) / max(nc, 1),
        float(bool(URL.search(s))), float(bool(EMAIL.search(s))), float(bool(HANDLE.search(s))),
        sum(c in SEPS for c in s), float(bool(BULLET.match(s))),
        sum(t in STOP for t in low) / nt,
        float(bool(CTA.match(s))), float(bool(CTA_ANY.search(s))),
        float(bool(MONTH.search(s))), float(bool(DATEWORD.search(s))), float(bool(NUMDATE.search(s))),
        float(bool(COPY.search(s))),
        sum(len(t) for t in toks) / nt,
    ]


def page_features(page, site_counts, site_pages):
    lines = page.lines
    n = len(lines)
    base = [line_features(s) for s in lines]
    nw = [b[0] for b in base]
    term = [b[3] for b in base]
    stop = [b[15] for b in base]
    # article body: longest run of long punctuated lines (>= 10 words, terminal punctuation)
    longp = [nw[i] >= 10 and term[i] for i in range(n)]
    best, bs, be, cur = 0, -1, -1, 0
    for i in range(n):
        cur = cur + 1 if longp[i] else 0
        if cur > best:
            best, bs, be = cur, i - cur + 1, i
    # run length of consecutive short unpunctuated lines
    shortu = [nw[i] <= 5 and not term[i] for i in range(n)]
    run = [0] * n
    i = 0
    while i < n:
        if shortu[i]:
            j = i
            while j < n and shortu[j]:
                j += 1
            for k in range(i, j):
                run[k] = j - i
            i = j
        else:
            i += 1
    norm = [sl.normalise(s) for s in lines]
    pcount = Counter(norm)
    term_share = sum(term) / max(n, 1)
    rows = []
    for i in range(n):
        if bs < 0:
            inb, bef, aft, dist = 0.0, 0.0, 0.0, n
        else:
            inb = float(bs <= i <= be)
            bef, aft = float(i < bs), float(i > be)
            dist = 0 if inb else (bs - i if i < bs else i - be)
        ctx = [
            i / max(n - 1, 1), math.log1p(n), inb, bef, aft, dist, dist / n, best / n,
            nw[i - 1] if i > 0 else -1, term[i - 1] if i > 0 else -1, stop[i - 1] if i > 0 else -1,
            nw[i + 1] if i < n - 1 else -1, term[i + 1] if i < n - 1 else -1, stop[i + 1] if i < n - 1 else -1,
            run[i], pcount[norm[i]], term_share,
        ]
        other = site_counts[(page.site, norm[i])] - 1  # other pages of the site holding this line
        sp = site_pages[page.site]
        rows.append(base[i] + ctx + [other, other / max(sp - 1, 1), math.log1p(sp)])
    return rows


def build(pages):
    site_pages = Counter(p.site for p in pages)
    site_counts = Counter()
    for p in pages:
        for t in set(sl.normalise(s) for s in p.lines):
            site_counts[(p.site, t)] += 1
    X, y, pid, ds, site = [], [], [], [], []
    for k, p in enumerate(pages):
        rows = page_features(p, site_counts, site_pages)
        for r, lab in zip(rows, p.labels):
            if lab == sl.EXCLUDED:
                continue
            X.append(r)
            y.append(lab)
            pid.append(k)
            ds.append(p.dataset)
            site.append(p.site)
    return (np.asarray(X, dtype=np.float64), np.asarray(y), np.asarray(pid), np.asarray(ds), np.asarray(site))


def hgb():
    return HistGradientBoostingClassifier(random_state=0, max_iter=100, learning_rate=0.15, early_stopping=False)


def lr():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))


def oof_scores(make, X, y, groups):
    # one site-grouped holdout: fit on ~2/3 of dev sites, score the other ~1/3
    tr, te = next(GroupShuffleSplit(n_splits=1, test_size=1/3, random_state=0).split(X, y, groups))
    m = make().fit(X[tr], y[tr])
    return m.predict_proba(X[te])[:, 1], te


def cut_at(scores_dev, y_dev, share=0.02):
    """Smallest cut flagging <= share of dev article lines (flag: score > cut)."""
    return float(np.quantile(scores_dev[y_dev == 0], 1 - share))


def at_cut(s, y, pid, cut):
    flag = s > cut
    rec = flag[y == 1].mean()
    art = flag[y == 0].mean()
    prec = (flag & (y == 1)).sum() / max(flag.sum(), 1)
    lose = []
    for k in np.unique(pid[y == 0]):
        m = (pid == k) & (y == 0)
        lose.append(flag[m].mean() > 0.05)
    return rec, art, prec, float(np.mean(lose))


def main():
    out = []
    for ex in ("trafilatura", "whole-page"):
        t = time.time()
        dev = sl.load_lines(split="dev", extractor=ex)
        test = sl.load_lines(split="test", extractor=ex)
        Xd, yd, pd_, dd, sd = build(dev)
        Xt, yt, pt, dt, st = build(test)
        print(f"\n=== {ex}: dev {len(yd)} lines ({yd.mean():.1%} leftover), test {len(yt)} lines ({yt.mean():.1%}); features {time.time()-t:.0f}s", flush=True)
        nosite = [i for i, f in enumerate(FEATS) if f not in SITE_FEATS]
        variants = {
            "HGB all": (hgb, list(range(len(FEATS)))),
            "LR all": (lr, list(range(len(FEATS)))),
            "HGB no site-rep": (hgb, nosite),
            "LR no site-rep": (lr, nosite),
            **({"HGB line-only": (hgb, [FEATS.index(f) for f in LINE_FEATS])} if ex == "trafilatura" else {}),
        }
        models = {}
        for name, (make, cols) in variants.items():
            t = time.time()
            m = make().fit(Xd[:, cols], yd)
            models[name] = (m, cols)
            s = m.predict_proba(Xt[:, cols])[:, 1]
            oof, te = oof_scores(make, Xd[:, cols], yd, sd)
            cut = cut_at(oof, yd[te])
            rec, art, prec, lose = at_cut(s, yt, pt, cut)
            auc = roc_auc_score(yt, s)
            print(f"{name:18s} test AUROC {auc:.3f} | dev-holdout AUROC {roc_auc_score(yd[te], oof):.3f} | at cut (<=2% dev-holdout art): "
                  f"recall {rec:.1%} prec {prec:.1%} test art flagged {art:.1%} pages>5% {lose:.1%}  [{time.time()-t:.0f}s]", flush=True)
            per = []
            for d in sorted(set(dt)):
                mk = dt == d
                if len(set(yt[mk])) < 2:
                    continue
                r2, a2, _, l2 = at_cut(s[mk], yt[mk], pt[mk], cut)
                per.append(f"{d}: {roc_auc_score(yt[mk], s[mk]):.3f} / rec {r2:.1%} / art {a2:.1%} / pg {l2:.1%} (n={mk.sum()}, lo {yt[mk].mean():.0%})")
            print("    " + "\n    ".join(per), flush=True)
            out.append((ex, name, auc, rec, art, lose))
        # single-feature AUROCs on test (sign-free) for context
        single = sorted(((max(roc_auc_score(yt, Xt[:, j]), 1 - roc_auc_score(yt, Xt[:, j])), f) for j, f in enumerate(FEATS)), reverse=True)
        print("single-feature test AUROC (best direction): " + ", ".join(f"{f} {a:.3f}" for a, f in single[:10]))
        # permutation importance on dev subsample (the training data) and on a test subsample
        rng = np.random.default_rng(0)
        for nm, X_, y_ in (("dev", Xd, yd), ("test", Xt, yt)):
            idx = rng.choice(len(y_), size=min(10000, len(y_)), replace=False)
            m, cols = models["HGB all"]
            t = time.time()
            pi = permutation_importance(m, X_[idx][:, cols], y_[idx], scoring="roc_auc", n_repeats=2, random_state=0)
            order = np.argsort(-pi.importances_mean)[:12]
            print(f"perm importance HGB all on {nm} subsample ({time.time()-t:.0f}s): " +
                  ", ".join(f"{FEATS[cols[j]]} {pi.importances_mean[j]:.3f}" for j in order), flush=True)
        coef = models["LR all"][0][-1].coef_[0]
        order = np.argsort(-np.abs(coef))[:10]
        print("LR top |coef| (standardised): " + ", ".join(f"{FEATS[j]} {coef[j]:+.2f}" for j in order), flush=True)
    print(f"\ntotal {time.time()-T0:.0f}s")


if __name__ == "__main__":
    main()
