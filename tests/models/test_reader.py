"""The reader model's shared parts: window layout, adapter file and merge, head, stack."""

from __future__ import annotations

import io

import numpy as np
import pytest

from coherence.models.intrusion import ReaderStack
from coherence.models.leftovers import LeftoverModel, LeftoverReaderStack
from coherence.models.reader import HEAD_HIDDEN, Adapters, ReaderHead, merge_adapters, pool_sentences
from coherence.models.reader_layout import MAX_TOKENS, SENTENCE_TOKENS, fully_read, lay_out, per_sentence, plan_windows, windows_wanted

CLS, SEP = 101, 102


def random_windows(seed: int, sentences: int, longest: int):
    """Windows of an article of random token ids, and the batch the training model reads them as
    (ids, mask, pool, owner)."""
    from training.reader_training import batch_tensors

    rng = np.random.default_rng(seed)
    tokens = [list(rng.integers(2000, 20000, int(rng.integers(3, longest)))) for _ in range(sentences)]
    windows = lay_out(tokens, CLS, SEP)
    return windows, batch_tensors(windows, [np.zeros(len(tokens))] * len(windows))[:4]


@pytest.mark.parametrize("n", [1, 2, 5, 40, 200])
def test_windows_cover_every_sentence_behind_the_first(n: int) -> None:
    rng = np.random.default_rng(n)
    tokens = [list(rng.integers(1000, 2000, int(rng.integers(0, 80)))) for _ in range(n)]
    windows = lay_out(tokens, CLS, SEP)
    held = sorted({s for w in windows for s in w.sentences})
    assert held == list(range(n))
    for w in windows:
        assert w.sentences[0] == 0 and len(w.ids) <= MAX_TOKENS
        assert w.ids[0] == CLS and w.ids[-1] == SEP
        for s, (a, b) in zip(w.sentences, w.spans):
            assert b > a
            expected = tokens[s][:SENTENCE_TOKENS]
            if expected:
                assert list(w.ids[a:b]) == expected


@pytest.mark.parametrize("n", [1, 2, 7, 300])
def test_a_page_is_read_unanchored_every_line_once_or_more(n: int) -> None:
    rng = np.random.default_rng(n)
    tokens = [list(rng.integers(1000, 2000, int(rng.integers(1, 30)))) for _ in range(n)]
    windows = lay_out(tokens, CLS, SEP, anchored=False)
    assert sorted({s for w in windows for s in w.sentences}) == list(range(n))
    for w in windows:
        assert list(w.sentences) == list(range(w.sentences[0], w.sentences[-1] + 1))  # a run of lines, no anchor
        assert len(w.ids) <= MAX_TOKENS
    if n > 100:
        assert windows[1].sentences[0] != 0 and set(windows[0].sentences) & set(windows[1].sentences)


def test_windows_overlap_by_half() -> None:
    lengths = [20] * 60
    windows = plan_windows(lengths)
    assert len(windows) > 2
    for first, second in zip(windows, windows[1:]):
        body, following = set(first[1:]), set(second[1:])
        assert body & following, "consecutive windows share sentences"
        assert second[1] > first[1]


def test_reading_the_windows_of_a_sentence_in_doubt_gives_it_the_whole_reading() -> None:
    """Reading only the windows that hold a wanted sentence must give it (and every sentence held
    by read windows alone) the mean that reading every window gives, and mark the rest unread."""
    members = plan_windows([20] * 60)
    rng = np.random.default_rng(3)
    values = [rng.normal(size=len(m)) for m in members]
    windows = [type("W", (), {"sentences": tuple(m)})() for m in members]
    every = per_sentence(windows, values, 60)
    wanted = np.zeros(60, dtype=bool)
    wanted[35] = True
    read = windows_wanted(members, wanted)
    assert 0 < sum(read) < len(members) and all(r == (35 in m) for m, r in zip(members, read))
    full = fully_read(members, read, 60)
    assert full[35] and not full[1] and not full[59]
    partial = per_sentence([w for w, r in zip(windows, read) if r], [v for v, r in zip(values, read) if r], 60)
    np.testing.assert_allclose(partial[full], every[full])
    # the anchor opens every window: wanting it reads them all
    anchor = np.zeros(60, dtype=bool)
    anchor[0] = True
    assert all(windows_wanted(members, anchor)) and fully_read(members, [True] * len(members), 60).all()


def _adapters(rng: np.random.Generator, names: list[str], hidden: int = 6) -> Adapters:
    lora = {name: (rng.normal(size=(2, hidden)), rng.normal(size=(hidden, 2))) for name in names}
    head = ReaderHead(rng.normal(size=(HEAD_HIDDEN, 2 * hidden)), rng.normal(size=HEAD_HIDDEN), rng.normal(size=(1, HEAD_HIDDEN)), rng.normal(size=1))
    return Adapters(lora, 0.5, head, {"rank": 2, "alpha": 1.0})


def test_merge_folds_each_adapter_in_and_refuses_unknown_weights() -> None:
    rng = np.random.default_rng(0)
    weights = {"a.weight": rng.normal(size=(6, 6)).astype(np.float32), "b.weight": np.zeros((6, 6), np.float32)}
    adapters = _adapters(rng, ["a.weight"])
    merged = merge_adapters(weights, adapters)
    a, b = adapters.lora["a.weight"]
    np.testing.assert_allclose(merged["a.weight"], weights["a.weight"] + 0.5 * b @ a, rtol=1e-5)
    assert merged["b.weight"] is weights["b.weight"]
    with pytest.raises(KeyError, match="c.weight"):
        merge_adapters(weights, _adapters(rng, ["c.weight"]))


def test_adapter_file_round_trip() -> None:
    rng = np.random.default_rng(1)
    adapters = _adapters(rng, ["x.weight", "y.weight"])
    buffer = io.BytesIO()
    np.savez(buffer, **adapters.to_arrays())
    loaded = Adapters.from_bytes(buffer.getvalue())
    assert loaded.scale == adapters.scale and set(loaded.lora) == set(adapters.lora)
    pooled = rng.normal(size=(4, 6))
    np.testing.assert_allclose(loaded.head.logits(pooled), adapters.head.logits(pooled))


def test_head_reads_each_sentence_against_its_window() -> None:
    rng = np.random.default_rng(2)
    head = _adapters(rng, []).head
    states = rng.normal(size=(10, 6))
    pooled = pool_sentences(states, [(1, 4), (4, 9)])
    np.testing.assert_allclose(pooled[0], states[1:4].mean(axis=0))
    # the same sentence in another window (another window mean) gets another logit
    other = np.vstack([pooled[0], rng.normal(size=6)])
    assert not np.isclose(head.logits(pooled)[0], head.logits(other)[0])


def test_stack_rises_with_either_verdict() -> None:
    stack = ReaderStack(0.8, 0.6, -1.0, ((0.0, 0.0), (1.0, 1.0)))
    weighed = np.array([0.1, 0.1, 0.9])
    reader = np.array([-2.0, 3.0, -2.0])
    p = stack.probability(weighed, reader)
    assert p[1] > p[0] and p[2] > p[0]
    assert ReaderStack.from_dict(stack.to_dict()) == stack
    assert not stack.reads_in_doubt and not stack.in_doubt(np.array([0.99]), np.array([True]))


def test_stack_with_the_larger_term_never_falls_as_either_side_rises() -> None:
    # the larger of the two log-odds lets the detector carry a block the reader does not see,
    # while a higher verdict on either side still never lowers the probability
    stack = ReaderStack(0.6, 0.1, 0.0, ((0.0, 0.0), (1.0, 1.0)), larger_coef=0.5)
    assert ReaderStack.from_dict(stack.to_dict()) == stack
    grid = np.linspace(-8.0, 8.0, 41)
    weighed = 1.0 / (1.0 + np.exp(-grid))
    for reader in (-6.0, 0.0, 6.0):
        assert np.all(np.diff(stack.probability(weighed, np.full_like(grid, reader))) > 0)
    for p in (0.05, 0.5, 0.95):
        assert np.all(np.diff(stack.probability(np.full_like(grid, p), grid)) > 0)
    # a sure detector and a doubtful reader: the larger term keeps the detector's verdict
    plain = ReaderStack(0.6, 0.6, 0.0, ((0.0, 0.0), (1.0, 1.0)))
    assert stack.probability(np.array([0.999]), np.array([-6.0]))[0] > plain.probability(np.array([0.999]), np.array([-6.0]))[0]


def test_an_article_is_in_doubt_when_a_sentence_that_may_be_flagged_reaches_the_trigger() -> None:
    stack = ReaderStack(0.8, 0.6, -1.0, ((0.0, 0.0), (1.0, 1.0)), trigger=0.4, auto_operating_points=((0.0, 0.1), (1.0, 0.9)))
    assert stack.reads_in_doubt and ReaderStack.from_dict(stack.to_dict()) == stack
    probability = np.array([0.1, 0.45, 0.2])
    assert stack.in_doubt(probability, np.array([True, True, True]))
    assert not stack.in_doubt(probability, np.array([True, False, True]))  # only an eligible sentence counts
    assert not stack.in_doubt(np.array([0.1, 0.39]), np.array([True, True]))
    assert stack.doubtful(probability, np.array([True, True, False])).tolist() == [False, True, False]


def test_auto_reads_the_windows_in_doubt_and_a_strongly_doubted_article_whole() -> None:
    stack = ReaderStack(0.8, 0.6, -1.0, ((0.0, 0.0), (1.0, 1.0)), trigger=0.2, auto_operating_points=((0.0, 0.1), (1.0, 0.9)), whole_trigger=0.5)
    assert ReaderStack.from_dict(stack.to_dict()) == stack
    eligible = np.array([True, True, True, False])
    assert stack.wanted(np.array([0.1, 0.1, 0.1, 0.9]), eligible) is None  # only an eligible sentence counts
    assert stack.wanted(np.array([0.1, 0.3, 0.1, 0.9]), eligible).tolist() == [False, True, False, False]
    assert stack.wanted(np.array([0.1, 0.3, 0.6, 0.0]), eligible).tolist() == [True] * 4
    windows_only = ReaderStack(0.8, 0.6, -1.0, ((0.0, 0.0), (1.0, 1.0)), trigger=0.2, auto_operating_points=((0.0, 0.1), (1.0, 0.9)))
    assert windows_only.wanted(np.array([0.1, 0.3, 0.99, 0.0]), eligible).tolist() == [False, True, True, False]


def test_a_sentence_the_reader_did_not_read_keeps_its_probability() -> None:
    stack = ReaderStack(0.8, 0.6, -1.0, ((0.0, 0.0), (1.0, 1.0)))
    weighed = np.array([0.2, 0.7, 0.4])
    logits = np.array([2.0, np.nan, -1.0])
    joined = stack.probability(weighed, logits)
    assert joined[1] == 0.7 and np.isfinite(joined).all()
    np.testing.assert_allclose(joined[[0, 2]], stack.probability(weighed[[0, 2]], logits[[0, 2]]))


def test_adapters_and_their_stack_ship_together() -> None:
    from coherence.models.intrusion import IntrusionModel

    assert (Adapters.default() is None) == (IntrusionModel.default().reader is None)
    # the page reader's adapters and the leftover model's stack, likewise
    assert (Adapters.default("page") is None) == (LeftoverModel.default().reader is None)


def test_leftover_stack_joins_the_reader_and_refuses_without_a_fit() -> None:
    from coherence.evidence.lines import PageLines

    page = PageLines(["Subscribe to our newsletter", "The council voted on Tuesday to close the bridge for repairs.", "Share this"])
    trees = LeftoverModel.default().probability(page)
    stack = LeftoverReaderStack((1.0, 0.7), -0.2, 0.9)
    low, high = stack.probability(trees, np.full(3, -3.0)), stack.probability(trees, np.full(3, 3.0))
    assert (high > low).all() and ((low > 0) & (high < 1)).all()
    # equal evidence from both sides moves the probability the same way for every line
    assert np.all(np.argsort(stack.probability(trees, np.zeros(3))) == np.argsort(trees))
    bare = LeftoverModel(LeftoverModel.default().trees, 0.5, reader=None)
    with pytest.raises(ValueError, match="no page reader stack"):
        bare.probability(page, np.zeros(3))


def test_merged_adapters_reproduce_the_trained_model(tmp_path) -> None:
    """What ships (adapters merged into the bundled weights, the head in numpy) gives the
    logits the trained torch model gives, window by window."""
    torch = pytest.importorskip("torch")
    from transformers import AutoModel

    from coherence.encoders.base import default_model_path
    from training.reader_training import build_model, export

    model = build_model(rank=2, alpha=4.0, dropout=0.0, seed=0).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("lora_B"):
                p.normal_(0.0, 0.05)  # B starts at zero: give the merge something to merge
    export(model, tmp_path / "adapters.npz", {"rank": 2, "alpha": 4.0})
    adapters = Adapters.from_bytes((tmp_path / "adapters.npz").read_bytes())
    windows, (ids, mask, pool, owner) = random_windows(3, sentences=25, longest=40)
    with torch.no_grad():
        expected = model(ids, mask, pool, owner, len(windows)).numpy()
    plain = AutoModel.from_pretrained(str(default_model_path()), attn_implementation="eager").eval()
    weights = {k: v.numpy() for k, v in plain.state_dict().items()}
    plain.load_state_dict({k: torch.from_numpy(v) for k, v in merge_adapters(weights, adapters).items()})
    got = []
    with torch.no_grad():
        for w in windows:
            states = plain(input_ids=torch.from_numpy(w.ids)[None]).last_hidden_state[0].numpy()
            got.extend(adapters.head.logits(pool_sentences(states, w.spans)))
    assert len(windows) > 1
    np.testing.assert_allclose(np.array(got), expected, atol=2e-4)


def test_training_starts_from_shipped_adapters_as_they_were_exported(tmp_path) -> None:
    """`--init-from adapters.npz` loads exactly what `export` wrote (the page reader starts
    from the article reader's adapters)."""
    torch = pytest.importorskip("torch")
    from training.reader_training import adapter_state, build_model, export, trainable

    model = build_model(rank=2, alpha=4.0, dropout=0.0, seed=0)
    with torch.no_grad():
        for name, p in trainable(model).items():
            p.normal_(0.0, 0.05)
    export(model, tmp_path / "a.npz", {"rank": 2, "alpha": 4.0})
    fresh = build_model(rank=2, alpha=4.0, dropout=0.0, seed=1)
    missing, unexpected = fresh.load_state_dict(adapter_state(Adapters.from_bytes((tmp_path / "a.npz").read_bytes())), strict=False)
    assert not unexpected and not [m for m in missing if "lora" in m or m.startswith(("hidden.", "out."))]
    for name, p in trainable(model).items():
        torch.testing.assert_close(trainable(fresh)[name], p)


def test_adapters_grown_to_a_higher_rank_compute_what_they_did(tmp_path) -> None:
    """`--init-from` with a higher `--rank`: the grown adapters give the same logits at the
    start, and their new directions can learn (A random, so B's new columns get a gradient)."""
    torch = pytest.importorskip("torch")
    from training.reader_training import adapter_state, build_model, export, grown_state, trainable

    small = build_model(rank=2, alpha=4.0, dropout=0.0, seed=0).eval()
    with torch.no_grad():
        for p in trainable(small).values():
            p.normal_(0.0, 0.05)
    export(small, tmp_path / "a.npz", {"rank": 2, "alpha": 4.0})
    adapters = Adapters.from_bytes((tmp_path / "a.npz").read_bytes())
    big = build_model(rank=6, alpha=4.0, dropout=0.0, seed=1).eval()
    big.load_state_dict(grown_state(adapter_state(adapters), adapters.scale, big, 4.0 / 6), strict=False)
    windows, (ids, mask, pool, owner) = random_windows(5, sentences=12, longest=30)
    with torch.no_grad():
        expected = small(ids, mask, pool, owner, len(windows)).numpy()
        got = big(ids, mask, pool, owner, len(windows)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4)
    big.train()
    big(ids, mask, pool, owner, len(windows)).sum().backward()
    grads = [p.grad[:, 2:].abs().sum().item() for n, p in trainable(big).items() if n.endswith("lora_B")]
    assert grads and all(g > 0 for g in grads)


def test_stack_fit_weighs_each_planted_condition_alike() -> None:
    # one condition plants ten lines an article that only the detector sees (a teaser block);
    # another plants one
    # line that both see. Weighed by condition, the many-line condition cannot set the reader's
    # weight alone: it keeps more of it than an unweighted fit on the same lines would.
    from training.context_training import ArticleRows
    from training.fit_reader_stack import fit_stack

    rng = np.random.default_rng(5)
    rows, weighed, logits = [], [], []
    for n in range(300):
        condition = ("teasers", "same", "clean")[n % 3]
        planted = np.zeros(20, dtype=bool)
        planted[: {"teasers": 10, "same": 1, "clean": 0}[condition]] = True
        w = np.where(planted, rng.normal(3.0, 1.0, 20), rng.normal(-3.0, 1.5, 20))
        r = np.where(planted & (condition == "same"), rng.normal(3.0, 1.0, 20), rng.normal(-3.0, 1.5, 20))
        rows.append(ArticleRows(f"a{n}", np.zeros((20, 2)), np.zeros((20, 1)), planted, np.ones(20, dtype=bool), condition))
        weighed.append(1.0 / (1.0 + np.exp(-w)))
        logits.append(r)
    stack = fit_stack(rows, weighed, logits)
    plain = fit_stack(rows, weighed, logits, by_condition=False)
    assert stack.reader_coef > plain.reader_coef > -1.0
    # the weights do not bias the probabilities where they are read as such: over the articles
    # with one stray source and the clean ones, they sum to the planted lines
    lone = [i for i, a in enumerate(rows) if a.condition != "teasers"]
    expected = sum(stack.probability(weighed[i], logits[i]).sum() for i in lone)
    assert abs(expected - sum(rows[i].planted.sum() for i in lone)) < 1e-6
    # both kinds of planted line still score above the clean lines
    p = [stack.probability(w, r) for w, r in zip(weighed, logits)]
    planted = np.concatenate([x[a.planted] for x, a in zip(p, rows)])
    clean = np.concatenate([x[~a.planted] for x, a in zip(p, rows)])
    assert np.median(planted) > np.quantile(clean, 0.99)


def test_half_precision_adapters_load_as_float32_and_read_alike(tmp_path) -> None:
    """`--export-dtype float16` halves the shipped file; what loads is float32 and merges to
    nearly the same weights as the float32 export."""
    torch = pytest.importorskip("torch")
    from training.reader_training import build_model, export, trainable

    model = build_model(rank=2, alpha=4.0, dropout=0.0, seed=0)
    with torch.no_grad():
        for p in trainable(model).values():
            p.normal_(0.0, 0.05)
    export(model, tmp_path / "full.npz", {"rank": 2, "alpha": 4.0})
    export(model, tmp_path / "half.npz", {"rank": 2, "alpha": 4.0}, dtype="float16")
    full = Adapters.from_bytes((tmp_path / "full.npz").read_bytes())
    half = Adapters.from_bytes((tmp_path / "half.npz").read_bytes())
    assert (tmp_path / "half.npz").stat().st_size < 0.7 * (tmp_path / "full.npz").stat().st_size
    assert {a.dtype for pair in half.lora.values() for a in pair} == {np.dtype(np.float32)}
    assert half.head.hidden_weight.dtype == np.float32
    for name, (a, b) in full.lora.items():
        ha, hb = half.lora[name]
        np.testing.assert_allclose(hb @ ha, b @ a, atol=1e-4)
