"""Train the reader model: low-rank adapters on the bundled MiniLM and a tagging head, on planted
intrusions (`training/reader_data.py`). CPU only, resumable.

Every step reads a batch of windows (`coherence.models.reader_layout`): for each of `--batch`
articles drawn at random, one of its windows, one that holds a planted sentence when the article
has one (mostly: a clean window of a planted article teaches what a clean window looks like
too). The loss is the binary cross-entropy of every sentence in the window but the first
(which opens every window and is never planted). The base weights stay frozen; only the
adapters (rank `--rank` on every linear layer of every transformer layer) and the head learn.

The order of batches comes from the seed and the step number alone, so a run stopped and resumed
from its checkpoint sees the same batches as one that ran through. Checkpoints, the log and the
validation curve go to `--work` (outside the repository); `--export` writes the shipped file.

The shipped adapters, rebuilt (about 20 min of data, then five runs of about an hour each on 2
cores; each later run continues the one before with a fresh batch order and a lower peak rate,
the fourth and the fifth each at twice the rank of the run before):

    D=~/.cache/coherence-fit/reader
    python -m training.reader_data --out $D/articles.pkl --rounds 2 --bbc train
    python -m training.reader_data --out $D/valid.pkl --split dev --news-articles 800 --rounds 1 --bbc none
    python -m training.reader_training --data $D/articles.pkl --valid $D/valid.pkl --work $D/run1 \\
        --steps 1400 --stop-at 1200 --lr 7e-4 --warmup 100 --validate-every 400
    python -m training.reader_training --work $D/run1 --export $D/run1.npz
    python -m training.reader_training --data $D/articles.pkl --valid $D/valid.pkl --work $D/run2 \\
        --init-from $D/run1.npz --seed 22 --steps 2000 --stop-at 1600 --lr 3e-4 --warmup 50 --validate-every 400
    python -m training.reader_training --work $D/run2 --export $D/run2.npz
    python -m training.reader_training --data $D/articles.pkl --valid $D/valid.pkl --work $D/run3 \\
        --init-from $D/run2.npz --seed 23 --steps 1800 --lr 2.5e-4 --warmup 50 --validate-every 600
    python -m training.reader_training --work $D/run3 --export $D/run3.npz
    python -m training.reader_training --data $D/articles.pkl --valid $D/valid.pkl --work $D/run4 \\
        --init-from $D/run3.npz --rank 16 --alpha 32 --seed 24 --steps 1600 --stop-at 1200 --lr 3e-4 \\
        --warmup 50 --validate-every 400 --valid-seed 23
    python -m training.reader_training --work $D/run4 --export $D/run4.npz
    python -m training.reader_training --data $D/articles.pkl --valid $D/valid.pkl --work $D/run5 \\
        --init-from $D/run4.npz --rank 32 --alpha 64 --seed 25 --steps 900 --lr 3e-4 --warmup 40 \\
        --validate-every 900 --valid-seed 23
    python -m training.reader_training --work $D/run5 --export coherence/models/reader_adapters.npz
    python -m training.fit_reader_stack --news-articles 600

The first run alone (1,200 steps of 16 windows: 19,200 windows, fewer than one per planted
article) left the reader under-trained. The second, on 2026-12-05 (1,600 steps, 62 min on
2 cores with validations, part of it beside another job; bf16 on an AMD EPYC with bf16 units), raised the validation AUROC on 300
news dev articles (planted against clean sentences), at steps 0 / 400 / 800 / 1200 / 1600:
same topic 0.910 / 0.919 / 0.922 / 0.932 / 0.937, another topic 0.949 / 0.958 / 0.958 / 0.969 / 0.969,
nearest story 0.829 / 0.846 / 0.846 / 0.866 / 0.876, pasted paragraph 0.838 / 0.868 / 0.862 / 0.891 / 0.897.
The third, on 2026-12-05 (1,800 steps, the whole cosine, 58 min with validations), gained less: on
its own 300 validation articles (the sample follows the run's seed, so its step 0, the second
run's end, reads differently from the second run's last entry) at steps 0 / 600 / 1200 / 1800,
same topic 0.933 / 0.929 / 0.936 / 0.936, another topic 0.952 / 0.955 / 0.957 / 0.954, nearest
story 0.863 / 0.870 / 0.873 / 0.870, pasted paragraph 0.886 / 0.876 / 0.892 / 0.889. On the
stack's 3,000 dev articles (`reports/reader_stack.md`) the reader alone went from the second
run's 0.952 / 0.924 / 0.845 / 0.863 (another topic / same / nearest / paragraph) to 0.952 /
0.925 / 0.853 / 0.879: the curve flattens at this rank and data; more steps of the same recipe
are not the next lever.
The fourth, on 2026-12-05, grew the adapters from rank 8 to rank 16 (`grown_state`: the old
directions kept, rescaled to the new alpha / rank, the new ones starting at zero, so step 0
computes what the third run's adapters did) and trained 1,200 steps of a 1,600-step cosine (61
min on 2 cores, stopped there for time). On the third run's validation sample (`--valid-seed
23`) at steps 0 / 400 / 800 / 1200: same topic 0.936 / 0.932 / 0.938 / 0.938, another topic 0.954
/ 0.962 / 0.962 / 0.958, nearest story 0.870 / 0.864 / 0.878 / 0.874, pasted paragraph 0.889 /
0.894 / 0.893 / 0.897. On the stack's 3,000 dev articles the reader alone went from 0.952 / 0.925
/ 0.853 / 0.879 to 0.956 / 0.930 / 0.857 / 0.887 (another topic / same / nearest / paragraph),
the stack's same-topic recall at the default point from 27.9% to 30.2%: more than the third
hour gave, so capacity, not only steps, was short. Its last 400 steps (resumed on 2026-12-05,
19 min; the same command without `--stop-at`) did not pay: at step 1600 same topic 0.937,
another topic 0.957, nearest story 0.876, pasted paragraph 0.899 on the validation sample; on
the stack's dev articles the reader alone 0.956 / 0.931 / 0.859 / 0.891 and the stack 0.9767 /
0.9527 / 0.8916 / 0.9251 (from 0.9767 / 0.9524 / 0.8899 / 0.9235), but recall at the default
point, read in doubt, 51.0% / 30.2% / 13.9% / 12.1% -> 50.5% / 29.9% / 13.3% / 11.8%. The
step-1200 adapters stay shipped: the end of this schedule is noise at this rank and data.
The fifth, on 2026-12-07 (data rebuilt by the commands above on a fresh machine), grew the
shipped rank-16 adapters (the fourth run's export) to rank 32 and ran a whole 900-step cosine (49
min of steps on 2 cores with bf16 units, part of it beside another job; the recipe's fifth
command above). On the third run's validation sample (rebuilt, so step 0 reads a little differently from the
fourth run's log) at steps 0 / 900: same topic 0.934 / 0.939, another topic 0.957 / 0.964,
nearest story 0.873 / 0.883, pasted paragraph 0.887 / 0.899: more than the fourth run's 1,200
steps gave. On the stack's 3,600 dev articles (`fit_reader_stack`, its inputs rebuilt and
refitted on them: the shipped fit is reproduced to the last digits) the reader alone went from
0.957 / 0.933 / 0.855 / 0.888 to 0.959 / 0.932 / 0.860 / 0.898 (another topic / same / nearest /
paragraph), the stack from 0.9796 / 0.9546 / 0.8881 / 0.9292 to 0.9805 / 0.9551 / 0.8902 /
0.9332, and recall at the default point, read in doubt from trigger 0.3, from 48.2 / 28.9 / 12.4 /
15.0% (teasers 61.8%) to 50.3 / 30.7 / 13.4 / 16.5% (63.3%): one to two points in every
condition, about what moving one or two of the 16 clean articles flagged there across the cut
does. Shipped on 2026-12-07 (the stack refitted on the same inputs, every report that reads
articles rerun). On the test splits, against the fourth run's adapters (both at the default
point, baselines beside them in each run): news, unseen outlets (`reports/quality_news.md`), same
topic AUROC 0.9505 -> 0.9512, recall 37.7% -> 39.7% at precision 88.5% -> 87.1%, another topic
60.0% -> 61.1%, nearest story 15.6% -> 16.2%, pasted paragraph 19.6% -> 20.8%, teaser blocks
83.3% -> 83.7%, clean articles flagged 4.2% -> 4.5%; at `flag_rate=0.10` same topic 43.6% at
8.2% clean against 43.6% at 9.8%. News, random split: same topic 0.9460 -> 0.9476, 34.9% ->
35.9%, another topic 59.2% -> 61.5%, paragraph 21.0% -> 23.1%, clean 3.8% both. BBC test half
(`reports/quality.md`): same category 59.4% -> 61.0%, other category 88.5% -> 89.5%, AUROC
unchanged (0.976 / 0.996), but clean articles flagged 4.8% -> 5.7% (63 of 1,108; the stack's cuts
are set on news dev clean articles, and at `flag_rate=0.10` it is 9.7% -> 8.1%): along the
curve the fifth run is a little ahead on both corpora (BBC, the old curve interpolated to 5.7%
clean: about 60.4% same category), but on BBC the default point now lands 0.7 of a point over
its nominal 5%, so the BBC clean-article goal (<= 5%) that passed at 4.8% fails at 5.7%.
A sixth run, on 2026-12-07, grew the shipped rank-32 adapters to rank 64 (alpha 128, `--seed 26`,
the fifth run's other settings and validation sample; 900 steps, 44 min on 2 cores beside short
jobs): at steps 0 / 900 same topic 0.939 / 0.936, another topic 0.964 / 0.953, nearest story 0.883
/ 0.881, pasted paragraph 0.899 / 0.902. Worse in three conditions of four: doubling the rank
again, on the same data, fits the training articles, not the task. Not shipped; the next lever
is the data (more articles, harder donors), not the adapters' size.
A seventh run, on 2026-12-07, tried the data: the shipped rank-32 adapters trained on other
plantings of the same hosts (new donors for every news train article, two rounds) with BBC at
one planting per round instead of four (3.8% of the articles instead of 13.6%: BBC's clean
articles are flagged more than news', `training/fit_reader_stack.py`), the fifth run's other
settings and validation sample (`--seed 27`; 900 steps, 44 min of steps on 2 cores, part of it
beside the test suite):

    D7=~/.cache/coherence-fit/reader7
    python -m training.reader_data --out $D7/articles.pkl --rounds 2 --first-round 2 --bbc-rounds 2
    python -m training.reader_training --data $D7/articles.pkl --valid $D/valid.pkl --work $D7/run7 \
        --init-from coherence/models/reader_adapters.npz --rank 32 --alpha 64 --seed 27 --steps 900 \
        --lr 3e-4 --warmup 40 --validate-every 900 --valid-seed 23

At steps 0 / 900 same topic 0.939 / 0.940, another topic 0.964 / 0.959, nearest story 0.883 /
0.875, pasted paragraph 0.899 / 0.903: two conditions up, two down, within what 300 validation
articles can tell. On the stack's 3,600 dev articles (`fit_reader_stack --news-articles 600`, run
outside the repository with these adapters) the reader alone went from 0.959 / 0.932 / 0.860 /
0.898 to 0.961 / 0.935 / 0.866 / 0.904 (another topic / same / nearest / paragraph; teasers
0.673 -> 0.670), the stack from 0.9805 / 0.9551 / 0.8902 / 0.9332 to 0.9809 / 0.9566 / 0.8943 /
0.9350, but recall at the default point, read in doubt from trigger 0.3, from 50.3 / 30.7 / 13.4
/ 16.5% (teasers 63.3%) to 50.0 / 30.6 / 13.7 / 15.4% (61.0%). Ranked a little better, found no
more at the cut: not shipped. Its BBC held-out clean share, the question the smaller BBC share
was for (`fit_reader_stack --bbc-held`, the 242 BBC dev hosts kept out of every run's training
added to the fit; read in doubt from trigger 0.3): 3.3% of their clean articles flagged against
the fifth run's 3.7% (8 articles against 9) and the detector alone's 1.2%; news dev 1.6%. A
quarter of the BBC share in training does not bring BBC's clean articles down to the detector's
own share: the reader's extra false flags on BBC prose are not from seeing too much of it.

The page reader (scraped pages, one unit a line, windows unanchored, lines labelled -1 by the
gold left out of the loss) starts from the article adapters shipped then (the third run's, rank 8;
the rank-16 ones of the fourth would need `--rank 16 --alpha 32`); its run (label version 3,
readers' comments a gold keeps left out of the loss) took 36 min on 2 cores without bf16 units
(fp32: bf16 autocast is emulated, and slower, on such CPUs), with validation AUROC on 120 held
pages of 0.820 / 0.940 (trafilatura / whole page) at step 500 and 0.817 / 0.943 at 1000:

    P=~/.cache/coherence-fit/page_reader
    python -m training.page_reader_data --out $P
    python -m training.reader_training --data $P/pages.pkl --valid $P/held.pkl --work $P/run1 --fp32 \
        --steps 1000 --batch 8 --warmup 40 --lr 5e-4 --validate-every 500 --valid-articles 120 --every 50 \
        --init-from $D/run3.npz
    python -m training.reader_training --work $P/run1 --export coherence/models/page_reader_adapters.npz
    python -m training.fit_page_reader_stack --pages $P/held.pkl

The shipped page adapters were trained on label version 3; on version 4 (a line of 1-2 words is
content only beside a neighbour in the gold) the trees were refitted and the stack refitted on
the version 4 held pages (`page_reader_data` rerun), the adapters kept: held out, the page reader
alone ranks the version 4 labels at 0.850 / 0.948 (trafilatura / whole page). Retrained on version
4 the same way (600 steps, 25 min, validation 0.838 / 0.966 at step 300 and 0.834 / 0.971 at 600)
and stacked again, on the same held pages: the page reader alone 0.851 / 0.955, the stack 0.873 /
0.967 against 0.872 / 0.967, at the 2% cut 42.7% of trafilatura's leftover lines against 41.1%
(whole page 90.3% at 9.1% of article lines against 88.2% at 7.6%), with a lower trigger (0.80)
that reads more pages. Within the noise of 262 held pages: not shipped.
Retrained on 2026-12-06 from the rank-16 article adapters (the fourth run's), label version 5,
1,000 steps of 8 windows in bf16 (21 min on 2 cores with bf16 units; validation on 120 held
pages 0.339 / 0.265 at step 0, the article head reading a page upside down, 0.843 / 0.979 at 500,
0.827 / 0.978 at 1000):

    python -m training.reader_training --data $P/pages.pkl --valid $P/held.pkl --work $P/run16 \\
        --steps 1000 --batch 8 --warmup 40 --lr 5e-4 --validate-every 500 --valid-articles 120 --every 50 \\
        --init-from coherence/models/reader_adapters.npz --rank 16 --alpha 32

On all 536 held pages alone it ranked 0.861 / 0.957 against the shipped adapters' 0.850 / 0.949,
and found 33.6% of trafilatura's leftover lines at the 2% cut against 27.4% (whole page 85.2%
against 79.0%). Stacked (with the reader's weight picked on a grid, 0.35, see
`fit_page_reader_stack`) the held figures rose a little, but the scraped benchmark's test pages
(2,991 s) did not follow: trafilatura output AUROC 0.881 -> 0.879, recall 60.7% -> 61.4%, article
lines flagged 6.0% -> 6.2%; datatrove settings 0.889 -> 0.887, 5.7% -> 6.1%; whole page 0.965 ->
0.964, 12.4% -> 12.8%. A better reader alone, not a better detector on 1,476 unseen pages, and
more article lines lost, where issue 18 needs fewer: not shipped (the adapters would also grow
from 1.6 to 2.9 MB).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from coherence.models.reader import HEAD_HIDDEN, LORA_TARGETS, Adapters, ReaderHead
from coherence.models.reader_layout import Window, lay_out, per_sentence, reader_tokenizer
from training.reader_data import PAGE, load_articles

CHECKPOINT = "checkpoint.pt"
PLANTED_WINDOW_SHARE = 0.85  # of planted articles, windows drawn among those holding a plant


def build_model(rank: int, alpha: float, dropout: float, seed: int):
    """The bundled MiniLM with adapters on every target layer, and the head; base weights frozen."""
    import torch
    from torch import nn
    from transformers import AutoModel

    from coherence.encoders.base import default_model_path

    torch.manual_seed(seed)

    class LoRALinear(nn.Module):
        """y = W x + b + (alpha / rank) B A x, with A random and B zero at the start."""

        def __init__(self, base: nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
            self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
            self.drop = nn.Dropout(dropout)
            self.scale = alpha / rank

        def forward(self, x):
            return self.base(x) + self.scale * (self.drop(x) @ self.lora_A.T @ self.lora_B.T)

    class Reader(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(default_model_path()), attn_implementation="eager")
            for p in self.bert.parameters():
                p.requires_grad_(False)
            for layer in self.bert.encoder.layer:
                for target in LORA_TARGETS:
                    parent_name, child = target.rsplit(".", 1)
                    parent = layer.get_submodule(parent_name)
                    setattr(parent, child, LoRALinear(getattr(parent, child)))
            hidden = self.bert.config.hidden_size
            self.hidden = nn.Linear(2 * hidden, HEAD_HIDDEN)
            self.out = nn.Linear(HEAD_HIDDEN, 1)

        def forward(self, ids, mask, pool, owner, n_windows):
            """Logits of the pooled sentences: `pool` (sentences, tokens) averages token states
            of the flattened batch, `owner` names each sentence's window."""
            states = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
            pooled = (pool @ states.reshape(-1, states.shape[-1])).float()
            counts = torch.zeros(n_windows).index_add_(0, owner, torch.ones(len(owner)))
            means = torch.zeros(n_windows, pooled.shape[1]).index_add_(0, owner, pooled) / counts[:, None]
            x = torch.cat([pooled, pooled - means[owner]], dim=1)
            return self.out(torch.relu(self.hidden(x)))[:, 0]

    return Reader()


def trainable(model) -> dict:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def batch_tensors(windows: list[Window], labels: list[np.ndarray], anchored: list[bool] | None = None):
    """Padded ids and mask, the pooling matrix, each sentence's window, targets and a loss mask
    (the first sentence of an anchored window is not scored, nor a unit labelled -1)."""
    import torch

    width = max(len(w.ids) for w in windows)
    ids = torch.zeros(len(windows), width, dtype=torch.long)
    mask = torch.zeros(len(windows), width, dtype=torch.long)
    rows, owner, target, scored = [], [], [], []
    anchored = anchored or [True] * len(windows)
    for k, (w, y, anchor) in enumerate(zip(windows, labels, anchored)):
        ids[k, : len(w.ids)] = torch.from_numpy(w.ids)
        mask[k, : len(w.ids)] = 1
        for j, ((a, b), s) in enumerate(zip(w.spans, w.sentences)):
            rows.append((k * width + a, k * width + b))
            owner.append(k)
            target.append(float(max(y[s], 0)))
            scored.append((j > 0 or not anchor) and y[s] >= 0)
    pool = torch.zeros(len(rows), len(windows) * width)
    for r, (a, b) in enumerate(rows):
        pool[r, a:b] = 1.0 / (b - a)
    return ids, mask, pool, torch.tensor(owner), torch.tensor(target), torch.tensor(scored)


def draw_batch(articles: list, rng: np.random.Generator, size: int, cls_id: int, sep_id: int):
    windows, labels, anchored = [], [], []
    for i in rng.integers(0, len(articles), size):
        article = articles[i]
        options = lay_out(article.tokens, cls_id, sep_id, anchored=article.anchored)
        holding = [w for w in options if (article.labels[list(w.sentences[int(article.anchored):])] == 1).any()]
        if holding and rng.random() < PLANTED_WINDOW_SHARE:
            options = holding
        windows.append(options[int(rng.integers(len(options)))])
        labels.append(article.labels)
        anchored.append(article.anchored)
    return windows, labels, anchored


def article_logits(model, article, cls_id: int, sep_id: int, bf16: bool = False) -> np.ndarray:
    """Each sentence's logit averaged over the windows that hold it (as scoring does)."""
    import torch

    windows = lay_out(article.tokens, cls_id, sep_id, anchored=article.anchored)
    ids, mask, pool, owner, _, _ = batch_tensors(windows, [article.labels] * len(windows))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(ids, mask, pool, owner, len(windows)).float().numpy()
    ends = np.cumsum([len(w.sentences) for w in windows])[:-1]
    return per_sentence(windows, np.split(logits, ends), len(article.tokens))


def validate(model, articles: list, cls_id: int, sep_id: int, bf16: bool = False) -> dict:
    """Sentence AUROC per condition (planted vs the clean articles' sentences) on the validation
    articles; on scraped pages (unanchored), leftover against article lines of their kind."""
    from sklearn.metrics import roc_auc_score

    model.eval()
    scores = {}
    for article in articles:
        first = int(article.anchored)
        logits = article_logits(model, article, cls_id, sep_id, bf16)[first:]
        scores.setdefault(article.condition, []).append((logits, article.labels[first:]))
    model.train()
    out = {}
    for condition in [c for c in scores if c.startswith(PAGE)]:
        pairs = scores.pop(condition)
        s, y = np.concatenate([s for s, _ in pairs]), np.concatenate([y for _, y in pairs])
        if len(set(y[y >= 0].tolist())) == 2:
            out[condition] = round(float(roc_auc_score(y[y >= 0], s[y >= 0])), 4)
    clean = np.concatenate([s for s, _ in scores.get("clean", [])]) if "clean" in scores else np.zeros(0)
    for condition, pairs in sorted(scores.items()):
        if condition == "clean":
            continue
        planted = np.concatenate([s[y == 1] for s, y in pairs])
        if len(planted) and len(clean):
            y = np.r_[np.ones(len(planted)), np.zeros(len(clean))]
            out[condition] = round(float(roc_auc_score(y, np.r_[planted, clean])), 4)
    return out


def adapter_state(adapters: Adapters) -> dict:
    """Shipped adapters as the training model's parameters (the inverse of `export`)."""
    import torch

    state = {}
    for name, (a, b) in adapters.lora.items():
        stem = "bert." + name[: -len(".weight")]
        state[stem + ".lora_A"], state[stem + ".lora_B"] = torch.from_numpy(a.copy()), torch.from_numpy(b.copy())
    head = adapters.head
    for key, value in (("hidden.weight", head.hidden_weight), ("hidden.bias", head.hidden_bias), ("out.weight", head.out_weight), ("out.bias", head.out_bias)):
        state[key] = torch.from_numpy(np.asarray(value, dtype=np.float32).copy())
    return state


def grown_state(state: dict, scale: float, model, new_scale: float) -> dict:
    """Adapters of rank r as the training model's parameters of rank R >= r, the function kept:
    the first r rows of each A are the old ones and the rest the model's own random start; the
    first r columns of each B are the old ones rescaled to the new alpha / rank, the rest zero,
    so training goes on from exactly what the smaller adapters computed, with room to learn more."""
    import torch

    params = trainable(model)
    out = dict(state)
    for key, old_a in state.items():
        if not key.endswith(".lora_A"):
            continue
        b_key = key[: -len("lora_A")] + "lora_B"
        a, b = params[key].detach().clone(), torch.zeros_like(params[b_key])
        rank = old_a.shape[0]
        a[:rank] = old_a
        b[:, :rank] = state[b_key] * (scale / new_scale)
        out[key], out[b_key] = a, b
    return out


ExportDtype = Literal["float32", "float16"]  # precision of the shipped adapters


def export(model, path: Path, meta: dict, dtype: ExportDtype = "float32") -> None:
    """The adapters (named as the bundled weights they adapt) and the head, as `Adapters`;
    `float16` halves the file (rank 64 adapters are about 10.6 MB in float32, over the
    repository's 10 MB limit) and they are read back as float32."""
    lora = {}
    for name, p in trainable(model).items():
        if name.endswith(".lora_A"):
            base = name[len("bert.") : -len(".lora_A")] + ".weight"
            lora[base] = (p.detach().numpy().copy(), trainable(model)[name[: -len("lora_A")] + "lora_B"].detach().numpy().copy())
    t = {n: p.detach().numpy().copy() for n, p in model.named_parameters() if n.startswith(("hidden.", "out."))}
    head = ReaderHead(t["hidden.weight"], t["hidden.bias"], t["out.weight"], t["out.bias"])
    adapters = Adapters(lora, meta["alpha"] / meta["rank"], head, meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: (v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in adapters.to_arrays().items()})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="planted training articles (training.reader_data)")
    parser.add_argument("--valid", type=Path, help="planted validation articles (news dev split)")
    parser.add_argument("--work", type=Path, required=True, help="checkpoints, log and curve (outside the repository)")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--dropout", type=float, default=0.05)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument("--validate-every", type=int, default=500, help="steps between validations; only logged steps (multiples of 20) validate")
    parser.add_argument("--valid-articles", type=int, default=300)
    parser.add_argument("--valid-seed", type=int, help="seed of the validation sample (default: the run's seed); fix it to compare runs on the same articles")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fp32", dest="bf16", action="store_false", help="train in fp32 (default: bf16 autocast, twice as fast on CPUs with bf16 units)")
    parser.add_argument("--export", type=Path, help="write the shipped adapters from the checkpoint and stop")
    parser.add_argument("--stop-at", type=int, help="stop after this step, the schedule still that of --steps (a run cut short)")
    parser.add_argument("--export-dtype", choices=get_args(ExportDtype), default="float32", help="precision of the exported adapters (float16 halves the file)")
    parser.add_argument("--init-from", type=Path, help="start a new run (its own schedule) from another run's checkpoint weights, or from shipped adapters (.npz)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    checkpoint_path = args.work / CHECKPOINT
    state = torch.load(checkpoint_path, weights_only=False) if checkpoint_path.exists() else None
    recipe = state["recipe"] if state else {k: getattr(args, k) for k in ("steps", "batch", "rank", "alpha", "dropout", "lr", "warmup", "seed", "bf16")}
    model = build_model(recipe["rank"], recipe["alpha"], recipe["dropout"], recipe["seed"])
    params = trainable(model)
    if state:
        model.load_state_dict(state["weights"], strict=False)
    elif args.init_from and args.init_from.suffix == ".npz":
        earlier = Adapters.from_bytes(args.init_from.read_bytes())
        if int(earlier.meta["rank"]) > recipe["rank"]:
            raise SystemExit(f"{args.init_from} has adapters of a higher rank ({earlier.meta['rank']}) than --rank")
        model.load_state_dict(grown_state(adapter_state(earlier), earlier.scale, model, recipe["alpha"] / recipe["rank"]), strict=False)
        recipe["init_from"] = {"path": str(args.init_from), "step": earlier.meta.get("step"), "recipe": earlier.meta}
    elif args.init_from:
        earlier = torch.load(args.init_from, weights_only=False)
        if any(earlier["recipe"][k] != recipe[k] for k in ("rank", "alpha")):
            raise SystemExit(f"{args.init_from} has adapters of another shape (rank, alpha)")
        model.load_state_dict(earlier["weights"], strict=False)
        recipe["init_from"] = {"path": str(args.init_from), "step": earlier["step"], "recipe": earlier["recipe"]}
    if args.export:
        meta = {**recipe, "step": state["step"] if state else 0, "format": "reader-lora-v1"}
        export(model, args.export, meta, args.export_dtype)
        print(f"wrote {args.export} (step {meta['step']})", file=sys.stderr)
        return

    tok = reader_tokenizer()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    articles = load_articles(args.data)
    valid = load_articles(args.valid) if args.valid else []
    if valid:  # a seeded sample: the file lists its articles condition by condition
        sample_seed = recipe["seed"] if args.valid_seed is None else args.valid_seed
        picked = np.random.default_rng(sample_seed).permutation(len(valid))[: args.valid_articles]
        valid = [valid[i] for i in sorted(picked)]
    optimizer = torch.optim.AdamW(params.values(), lr=recipe["lr"], weight_decay=0.01)
    step = 0
    if state:
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]

    def rate(s: int) -> float:
        warm = min(1.0, (s + 1) / recipe["warmup"])
        return warm * 0.5 * (1 + math.cos(math.pi * min(1.0, s / recipe["steps"])))

    log = open(args.work / "log.jsonl", "a")

    def record(entry: dict) -> None:
        log.write(json.dumps(entry) + "\n")
        log.flush()
        print(json.dumps(entry), file=sys.stderr, flush=True)

    if valid and step == 0 and "init_from" in recipe:  # where a warm-started run begins
        record({"step": 0, "valid_auroc": validate(model, valid, cls_id, sep_id, recipe["bf16"])})
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    model.train()
    started, running = time.time(), []
    last = min(recipe["steps"], args.stop_at or recipe["steps"])
    while step < last:
        rng = np.random.default_rng([recipe["seed"], step])
        torch.manual_seed(recipe["seed"] * 1_000_003 + step)
        windows, labels, anchored = draw_batch(articles, rng, recipe["batch"], cls_id, sep_id)
        ids, mask, pool, owner, target, scored = batch_tensors(windows, labels, anchored)
        for group in optimizer.param_groups:
            group["lr"] = recipe["lr"] * rate(step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=recipe["bf16"]):
            logits = model(ids, mask, pool, owner, len(windows))
        loss = (loss_fn(logits, target) * scored).sum() / scored.sum()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
        optimizer.step()
        step += 1
        running.append(float(loss.detach()))
        if step % 20 == 0:
            entry = {"step": step, "loss": round(float(np.mean(running)), 4), "lr": round(recipe["lr"] * rate(step), 6), "seconds": round(time.time() - started, 1)}
            running = []
            if valid and step % args.validate_every == 0:
                entry["valid_auroc"] = validate(model, valid, cls_id, sep_id, recipe["bf16"])
            record(entry)
        if step % args.every == 0 or step == last:
            weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
            tmp = checkpoint_path.with_suffix(".partial")
            torch.save({"recipe": recipe, "step": step, "weights": weights, "optimizer": optimizer.state_dict()}, tmp)
            tmp.replace(checkpoint_path)


if __name__ == "__main__":
    main()
