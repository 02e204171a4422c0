"""Runners by name, from the event's timing results (pipeline.timing): the organiser's staff
search by prefixes (the keyed route); the public search takes whole words and answers one runner
or nobody, so a stranger walking names learns only the runners whose unshared name they already
guessed (docs/security.md)."""

from pipeline.common.errors import BadRequest
from pipeline.store import Store
from pipeline.timing import rules as timing

MAX_RUNNERS_NAMED = 10
MIN_NAME_LETTERS = 2
MAX_NAME_WORD_BYTES = 200  # a name item's sort key holds the word, and sort keys end at 1,024 bytes
MIN_FULL_NAME_LETTERS = 3  # the public name search: "Oh Li" and "김민준" are names, "a b" is not


def runners_named(store: Store, org_id: str, event_id: str, text: str) -> list[dict]:
    """Runners of the event's timing results whose name matches `text` ({bib, name}), accent-
    and case-insensitively, each word typed starting a word of the name."""
    words = timing.name_tokens(text[: timing.MAX_NAME])
    if not words or len(max(words, key=len)) < MIN_NAME_LETTERS:
        raise BadRequest(f"give at least {MIN_NAME_LETTERS} letters of the runner's name")
    _check_word_lengths(words)
    current = store.timing.current(org_id, event_id)
    if not current:
        return []
    return store.timing.named(org_id, event_id, current["importId"], words, MAX_RUNNERS_NAMED)


def runner_named_in_full(store: Store, org_id: str, event_id: str, words: list[str]) -> list[dict]:
    """The public name search: [{bib, name}] of the one runner whose name `words` (from
    full_name_words) are, or [] when no runner or several have it."""
    current = store.timing.current(org_id, event_id)
    if not current:
        return []
    found, complete = store.timing.named_in_full(org_id, event_id, current["importId"], words)
    return found if len(found) == 1 and complete else []  # unsure it is the only one: none


def full_name_words(text: str) -> list[str]:
    """The words of a name a runner typed, for the public name search; BadRequest when they cannot
    be a name (too few letters, a word no name has)."""
    words = sorted(set(timing.name_tokens(text[: timing.MAX_NAME])))
    if sum(len(word) for word in words) < MIN_FULL_NAME_LETTERS:
        raise BadRequest("type your name as the results list it: first and last name")
    _check_word_lengths(words)
    return words


def _check_word_lengths(words: list[str]) -> None:
    """A word folded from a few exotic characters can outgrow a sort key (1,024 bytes)."""
    if any(len(word.encode()) > MAX_NAME_WORD_BYTES for word in words):
        raise BadRequest("no word of a name is that long: type the name as the results list it")
