"""Runners' personal links (pipeline.access.runner_links): a token opens one event for one runner until it
expires, and nothing else."""

import pytest

from pipeline.access.runner_links import InvalidRunnerLink, make_token, runner_of

KEY = b"the-stacks-signing-key"
NOW = 1_790_000_000  # 2026-09-21
LATER = NOW + 30 * 86400


def test_a_token_names_its_runner_on_its_event_until_it_expires():
    token = make_token(KEY, "acme", "seoul-2026", "#1234", LATER)
    assert token.startswith(f"1234.{LATER}.") and len(token) < 48  # short enough for a text message
    assert runner_of(token, KEY, "acme", "seoul-2026", now=NOW) == "1234"
    assert runner_of(f" {token} ", KEY, "acme", "seoul-2026", now=NOW) == "1234"
    assert (
        runner_of(make_token(KEY, "acme", "seoul-2026", "a7", LATER), KEY, "acme", "seoul-2026", now=NOW)
        == "A7"
    )
    with pytest.raises(InvalidRunnerLink, match="expired"):
        runner_of(token, KEY, "acme", "seoul-2026", now=LATER)


def forged(token: str) -> list[str]:
    bib, expires, mac = token.split(".")
    return [
        f"1235.{expires}.{mac}",  # another runner
        f"{bib}.{int(expires) + 86400}.{mac}",  # a longer life
        f"{bib}.{expires}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        f"{bib}.{expires}",
        token + ".x",
        "1234",
        "é" * 40,
        "[" * 5000,
    ]


def test_a_token_cannot_be_moved_altered_or_made_without_the_key():
    token = make_token(KEY, "acme", "seoul-2026", "1234", LATER)
    elsewhere = [("acme", "seoul-2027"), ("rival", "seoul-2026")]
    for org, event in elsewhere:
        with pytest.raises(InvalidRunnerLink, match="not valid for this event"):
            runner_of(token, KEY, org, event, now=NOW)
    with pytest.raises(InvalidRunnerLink, match="not valid for this event"):
        runner_of(
            make_token(b"another-stacks-key", "acme", "seoul-2026", "1234", LATER),
            KEY,
            "acme",
            "seoul-2026",
            now=NOW,
        )
    for bad in forged(token)[:-2]:
        with pytest.raises(InvalidRunnerLink, match="not valid for this event"):
            runner_of(bad, KEY, "acme", "seoul-2026", now=NOW)


def test_no_token_says_where_to_get_one():
    for missing in (None, ""):
        with pytest.raises(InvalidRunnerLink, match="personal runner link"):
            runner_of(missing, KEY, "acme", "seoul-2026", now=NOW)
    for bad in forged(make_token(KEY, "acme", "seoul-2026", "1234", LATER))[-2:]:
        with pytest.raises(InvalidRunnerLink, match="not valid"):
            runner_of(bad, KEY, "acme", "seoul-2026", now=NOW)


def test_only_bibs_get_tokens():
    for not_a_bib in ("12-34", "1234567", "AB12", ""):
        with pytest.raises(ValueError, match="not a bib"):
            make_token(KEY, "acme", "seoul-2026", not_a_bib, LATER)
