import pytest
from photos import text_detection

from pipeline.processing.bibs import BibRules, is_bib, normalise_bib, read_bibs

RULES = BibRules(min_length=2, max_length=6, min_confidence=80.0, min_height=0.015)


def scene(*lines):
    """DetectText's answer for lines of (text, left, top, height, confidence): a LINE each, then
    its WORDs (each word takes its share of the line's width), with ids and parents as the API has."""
    detections, words = [], []
    for ident, (text, left, top, height, confidence) in enumerate(lines):
        width = 0.025 * len(text)
        detections.append(text_detection(text, "LINE", confidence, left, top, width, height, ident))
        offset = left
        for word in text.split():
            share = width * len(word) / len(text)
            words.append((word, confidence, offset, top, share, height, ident))
            offset += share + width / len(text)
    for index, (word, confidence, left, top, width, height, parent) in enumerate(words):
        detections.append(
            text_detection(word, "WORD", confidence, left, top, width, height, len(lines) + index, parent)
        )
    return detections


def detect_text_response():
    """What DetectText returns for a runner at a finish line: LINEs and their WORDs."""
    return scene(
        ("SEOUL MARATHON", 0.3, 0.05, 0.04, 99.0),
        ("1234", 0.42, 0.55, 0.06, 99.1),
        ("1234", 0.42, 0.56, 0.06, 91.0),  # read twice: the better reading counts
        ("#A512.", 0.7, 0.6, 0.05, 95.0),
        ("88", 0.1, 0.9, 0.005, 99.0),  # tiny: background
        ("4321", 0.2, 0.6, 0.05, 61.0),  # unsure
        ("1234567", 0.2, 0.7, 0.05, 99.0),  # too long
        ("AB12", 0.2, 0.8, 0.05, 99.0),  # two letters
    )


def test_reads_bibs_from_words_once_each_with_the_best_reading():
    found = read_bibs(detect_text_response(), RULES)
    assert [bib.bib for bib in found] == ["1234", "A512"]
    first = next(bib for bib in found if bib.bib == "1234")
    assert first.confidence == 99.1
    assert first.box == {"left": 0.42, "top": 0.55, "width": 0.1, "height": 0.06}


def test_lines_alone_are_not_counted():
    assert read_bibs([text_detection("1234", kind="LINE")], RULES) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1234", True),
        ("a123", True),
        ("#1234", True),
        ("12", True),
        ("1", False),
        ("1234567", False),
        ("12a", False),
        ("12-34", False),
        ("", False),
        ("O123", True),
    ],
)
def test_bib_shape(text, expected):
    assert is_bib(text, RULES) is expected


def test_length_range_is_configurable():
    assert is_bib("7", BibRules(min_length=1, max_length=4))
    assert not is_bib("12345", BibRules(min_length=1, max_length=4))
    with pytest.raises(ValueError):
        BibRules(min_length=5, max_length=3)


def test_normalised_form_is_what_is_stored_and_searched():
    assert normalise_bib(" #a512. ") == "A512"


def bibs_in(*lines, rules=RULES):
    return sorted(bib.bib for bib in read_bibs(scene(*lines), rules))


def test_a_short_number_needs_a_near_certain_read():
    assert bibs_in(("49", 0.4, 0.5, 0.05, 86.0)) == []
    assert bibs_in(("49", 0.4, 0.5, 0.05, 99.0)) == ["49"]
    assert bibs_in(("493", 0.4, 0.5, 0.05, 86.0)) == ["493"]


def test_numbers_in_the_top_fifth_are_scenery():
    assert bibs_in(("2287", 0.4, 0.12, 0.05, 99.0), ("941", 0.4, 0.5, 0.05, 99.0)) == ["941"]


def test_a_number_sharing_its_line_with_words_is_not_a_bib():
    assert bibs_in(("RUN 512", 0.4, 0.5, 0.05, 99.0), ("#512", 0.4, 0.7, 0.05, 99.0)) == ["512"]
    assert bibs_in(("SPONSOR 777", 0.4, 0.5, 0.05, 99.0)) == []
    assert bibs_in(("A 512", 0.4, 0.5, 0.05, 99.0)) == ["512"]  # a letter is not a word


def test_years_are_ignored_unless_the_event_says_they_are_bibs():
    photo = (("2008", 0.4, 0.5, 0.05, 99.0), ("1234", 0.4, 0.7, 0.05, 99.0))
    assert bibs_in(*photo) == ["1234"]
    assert bibs_in(*photo, rules=RULES.for_event(bib_range=(1, 3000))) == ["1234", "2008"]
    assert bibs_in(*photo, rules=RULES.for_event(bib_range=(1, 1500))) == ["1234"]


def test_a_participant_list_decides():
    photo = (("2008", 0.4, 0.5, 0.05, 99.0), ("1234", 0.4, 0.7, 0.05, 99.0), ("A77", 0.1, 0.7, 0.05, 99.0))
    assert bibs_in(*photo, rules=RULES.for_event(participants={"2008", "A77"})) == ["2008", "A77"]


def test_part_of_a_longer_number_in_the_photo_is_a_fragment():
    assert bibs_in(("36", 0.2, 0.4, 0.05, 99.9), ("3638", 0.5, 0.5, 0.08, 99.0)) == ["3638"]


def test_of_two_numbers_stacked_on_one_bib_the_taller_is_the_bib():
    bib_and_corral = (("2287", 0.40, 0.50, 0.06, 99.0), ("315", 0.41, 0.57, 0.02, 99.0))
    assert bibs_in(*bib_and_corral) == ["2287"]
    side_by_side = (("2287", 0.10, 0.50, 0.06, 99.0), ("315", 0.70, 0.52, 0.03, 99.0))  # two runners
    assert bibs_in(*side_by_side) == ["2287", "315"]


def test_lenient_rules_keep_only_shape_confidence_and_size():
    photo = (
        ("49", 0.4, 0.5, 0.05, 86.0),
        ("2287", 0.4, 0.12, 0.05, 99.0),
        ("RUN 512", 0.4, 0.5, 0.05, 99.0),
        ("2008", 0.4, 0.5, 0.05, 99.0),
    )
    assert bibs_in(*photo) == []
    assert bibs_in(*photo, rules=RULES.lenient()) == ["2008", "2287", "49", "512"]


def test_an_event_range_must_be_ordered():
    with pytest.raises(ValueError):
        RULES.for_event(bib_range=(500, 100))


def test_numbers_the_event_refused_are_kept_as_doubtful_reads_for_a_person():
    from pipeline.processing.bibs import doubtful_reads

    found = scene(
        ("20264", 0.1, 0.5, 0.06, 99.0),
        ("1026", 0.4, 0.5, 0.06, 97.0),  # the start of 10264, the rest hidden by an arm
        ("7777", 0.7, 0.5, 0.06, 96.0),  # not in the list
        ("4321", 0.7, 0.8, 0.06, 61.0),  # unsure: no read at all, not a doubtful one
    )
    listed = RULES.for_event(participants={"10264", "20264"})
    assert [bib.bib for bib in read_bibs(found, listed)] == ["20264"]
    assert [(d["bib"], d["doubt"]) for d in doubtful_reads(found, listed)] == [
        ("1026", "partial"),
        ("7777", "outside-event"),
    ]
    ranged = RULES.for_event(bib_range=(1, 5000))
    assert [bib.bib for bib in read_bibs(found, ranged)] == ["1026"]
    assert [(d["bib"], d["doubt"]) for d in doubtful_reads(found, ranged)] == [
        ("20264", "outside-event"),
        ("7777", "outside-event"),
    ]
    assert doubtful_reads(found, RULES) == []  # no event settings: nothing refused for the event
    with_a_fragment = scene(("10264", 0.1, 0.5, 0.06, 99.0), ("1026", 0.4, 0.5, 0.06, 97.0))
    assert doubtful_reads(with_a_fragment, listed) == []  # 1026 is a fragment of the 10264 read here


@pytest.mark.parametrize(
    ("typed", "bib"),
    [("111", "111"), ("#0111", "111"), ("０１１１", "111"), (" a007.", "A7"), ("000", "0"), ("ｂ12", "B12")],
)
def test_every_entry_point_gives_a_bib_in_one_form(typed, bib):
    """Search, corrections, runner links, participant lists and results files use one normaliser:
    a correction's "#0111" is runner 111, as is a fullwidth "０１１１" typed on a phone."""
    from pipeline.access.runner_links import make_token, runner_of
    from pipeline.corrections.records import parse_bibs
    from pipeline.events.settings import parse_participants
    from pipeline.processing.bibs import searched_bib

    assert searched_bib(typed) == bib
    assert parse_bibs([typed]) == [bib]
    assert parse_participants([typed.replace("#", "")]) == {bib}  # a list's "#" starts a comment
    token = make_token(b"k" * 32, "acme", "seoul", typed, 4_000_000_000)
    assert runner_of(token, b"k" * 32, "acme", "seoul", now=0) == bib


@pytest.mark.parametrize("typed", ["", "#", "12-34", "AB12", "1234567", "١٢٣", "12 34", "1.5"])
def test_what_is_not_a_bib_is_refused_at_every_entry_point(typed):
    from pipeline.access.runner_links import make_token
    from pipeline.corrections.records import CorrectionError, parse_bibs
    from pipeline.processing.bibs import searched_bib

    with pytest.raises(ValueError, match="is not a bib number"):
        searched_bib(typed)
    with pytest.raises(CorrectionError):
        parse_bibs([typed])
    with pytest.raises(ValueError):
        make_token(b"k" * 32, "acme", "seoul", typed, 4_000_000_000)


def test_a_printed_leading_zero_is_read_as_the_runners_bib_judged_on_its_printed_length():
    read = text_detection("0111", confidence=99.0)
    assert [b.bib for b in read_bibs([read], BibRules())] == ["111"]
    assert read_bibs([text_detection("07", confidence=90.0)], BibRules()) == []  # short: needs 95, as printed


def test_bibs_stored_before_the_one_form_read_as_today():
    """Erasure records, participant lists and runner links written when "0111" was its own bib."""
    import base64
    import hashlib
    import hmac

    from pipeline.access.runner_links import runner_of
    from pipeline.events.settings import EventSettings
    from pipeline.retention.erasure import erased_bibs

    assert erased_bibs([{"bibs": ["0111", "A007"]}]) == {"111", "A7"}
    assert EventSettings.from_item({"participants": {"0111", "222"}}).participants == {"111", "222"}
    key, scoped = b"k" * 32, b"runner|acme|seoul|0111|4000000000"  # a link made for "0111"
    mac = base64.urlsafe_b64encode(hmac.new(key, scoped, hashlib.sha256).digest()[:16]).decode().rstrip("=")
    assert runner_of(f"0111.4000000000.{mac}", key, "acme", "seoul", now=0) == "111"


@pytest.mark.parametrize(
    ("region", "hosts"),
    [
        ("ap-northeast-2", ["https://b.s3.ap-northeast-2.amazonaws.com"]),
        ("us-east-1", ["https://b.s3.us-east-1.amazonaws.com", "https://b.s3.amazonaws.com"]),  # global host
    ],
)
def test_the_pages_allow_photos_from_the_buckets_own_host_only(monkeypatch, region, hosts):
    from pipeline.api.web import page_headers

    monkeypatch.setenv("AWS_REGION", region)
    policy = page_headers("b")["Content-Security-Policy"]
    img = next(part for part in policy.split("; ") if part.startswith("img-src"))
    assert img.split() == ["img-src", "'self'", *hosts, "blob:", "data:"]
