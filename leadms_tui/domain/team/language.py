"""The language an inquiry is written in, detected from its text (py3langid: the model ships
inside the package, nothing is fetched). Short or unclear text gives None, not a guess."""

import functools
import re

MIN_CONFIDENCE = 0.8
MIN_LETTERS = 8  # "hola" or "ok" says too little
LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "nl", "pl", "ro", "tr", "ar", "hi", "zh", "ru")
_URLS = re.compile(r"https?://\S+|\S+@\S+")


@functools.cache
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def load_model() -> None:
    """Load the model now (1.2 s): the first detection would otherwise pay it, inside the
    intake transaction that assigns the first lead."""
    _identifier()


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of `text`'s language, or None when it is too short or unclear."""
    cleaned = _URLS.sub(" ", text or "")
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return None
    language, confidence = _identifier().classify(cleaned)
    return language if confidence >= MIN_CONFIDENCE else None
