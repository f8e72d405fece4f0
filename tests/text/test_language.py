"""The language identifier read from its unpacked copy in the user cache names languages
exactly as py3langid's own loader does, and language is still named when the cache cannot be written."""

from __future__ import annotations

from coherence.text import language

TEXTS = (
    "The Syrian army made advances in Deir al-Zour on Tuesday, the ministry said.",
    "Der Hund läuft schnell über die Straße und bellt die Nachbarn an.",
    "Le gouvernement a annoncé de nouvelles mesures pour les agriculteurs.",
    "这是一个测试句子，用来检查语言识别是否一致。",
    "Photo: Getty Images",
)


def test_unpacked_model_names_languages_as_py3langid(tmp_path, monkeypatch):
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    monkeypatch.setenv("COHERENCE_CACHE_DIR", str(tmp_path))
    language.identifier.cache_clear()
    try:
        cached = language.identifier()
        unpacked = language.unpacked_model(MODEL_DIR / MODEL_FILE)
        assert unpacked is not None and unpacked.is_relative_to(tmp_path)
        assert not list(unpacked.parent.glob("*.partial"))
        stock = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        for text in TEXTS:
            assert cached.classify(text) == stock.classify(text)
    finally:
        language.identifier.cache_clear()


def test_unwritable_cache_falls_back_to_the_packed_model(tmp_path, monkeypatch):
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COHERENCE_CACHE_DIR", str(blocker / "cache"))  # cannot be made
    language.identifier.cache_clear()
    try:
        assert language.unpacked_model(MODEL_DIR / MODEL_FILE) is None
        assert language.language_of(TEXTS[1]) == "de"
    finally:
        language.identifier.cache_clear()
