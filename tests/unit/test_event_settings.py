import pytest

from pipeline.events.settings import (
    CACHE_SECONDS,
    OPEN,
    VERIFIED,
    Cached,
    EventSettings,
    InvalidSettings,
    parse_participants,
    parse_range,
)


def test_a_range_is_first_dash_last():
    assert parse_range("1-5000") == (1, 5000)
    assert parse_range(" 100 - 199 ") == (100, 199)
    assert parse_range("１-５０００") == (1, 5000)  # typed on a Korean or Japanese keyboard
    for bad in ("5000", "5000-1", "a-b", "1-9999999", "-5", "0-0", "1-5000x", "1-5,000"):
        with pytest.raises(InvalidSettings):
            parse_range(bad)


def test_participants_from_a_list_or_a_csv_with_a_header():
    assert parse_participants(["1234\n", "a77\n", "\n", "#812 withdrew\n", "0042\n"]) == {
        "1234",
        "A77",
        "42",  # printed "0042": the one bib normaliser (pipeline.processing.bibs) drops leading zeros
    }
    csv = ["bib,name,category\n", "1234,Kim Minji,F40\n", "1235,Lee Joon,M35\n"]
    assert parse_participants(csv) == {"1234", "1235"}


def test_participants_that_are_not_bibs_are_refused_with_their_lines():
    with pytest.raises(InvalidSettings, match="line 3: 'Kim'"):
        parse_participants(["1234\n", "1235\n", "Kim\n"])
    with pytest.raises(InvalidSettings, match="no bib numbers"):
        parse_participants(["bib\n", "\n"])
    with pytest.raises(InvalidSettings, match="too many"):
        parse_participants(f"{n}\n" for n in range(100_000, 160_000))


def test_settings_round_trip_through_the_item():
    settings = EventSettings(bib_range=(1, 5000), participants=frozenset({"12", "A7"}))
    assert EventSettings.from_item(settings.to_item()) == settings
    assert EventSettings.from_item(None) == EventSettings()
    assert EventSettings().to_item() == {}
    assert settings.describe() == "bibs 1-5000, 2 participants; face search on, selfie search verified"


def test_settings_are_read_again_after_a_minute():
    now, loads = [0.0], []

    def load(org, event):
        loads.append((org, event))
        return EventSettings(bib_range=(1, len(loads)))

    cached = Cached(load, clock=lambda: now[0])
    assert cached("acme", "run") == cached("acme", "run")
    assert cached("other", "run").bib_range == (1, 2)
    now[0] += CACHE_SECONDS
    assert cached("acme", "run").bib_range == (1, 3)
    assert loads == [("acme", "run"), ("other", "run"), ("acme", "run")]


def test_face_search_is_on_unless_the_organiser_turns_it_off():
    from pipeline.events.settings import EventSettings

    assert EventSettings.from_item(None).faces is True
    off = EventSettings(bib_range=(1, 5000), faces=False)
    assert off.to_item() == {"faceSearch": "off", "bibFirst": 1, "bibLast": 5000}
    assert EventSettings.from_item(off.to_item()) == off
    assert off.describe() == "bibs 1-5000; face search off"
    assert EventSettings().to_item() == {}  # nothing to store: the item is deleted


def test_selfie_search_is_verified_unless_the_organiser_opens_it():
    assert EventSettings().selfie_mode == VERIFIED and "selfieSearch" not in EventSettings().to_item()
    opened = EventSettings(published=True, selfie_mode=OPEN)
    assert opened.to_item() == {"published": True, "selfieSearch": "open"}
    assert EventSettings.from_item(opened.to_item()) == opened
    assert EventSettings.from_item({"selfieSearch": "anyone"}).selfie_mode == VERIFIED  # unknown: closed
    assert "selfie search open" in opened.describe()
    assert "selfie search" not in EventSettings(faces=False, selfie_mode=OPEN).describe()
