import pytest
from photos import text_detection

from pipeline.bibs import BibRules, is_bib, normalise_bib, read_bibs

RULES = BibRules(min_length=2, max_length=6, min_confidence=80.0, min_height=0.015)


def detect_text_response():
    """What DetectText returns for a runner at a finish line: LINEs and their WORDs."""
    return [
        text_detection("SEOUL MARATHON", kind="LINE", ident=0, top=0.05, height=0.04),
        text_detection("1234", kind="LINE", ident=1, left=0.42, top=0.55, height=0.06, confidence=99.1),
        text_detection("SEOUL", ident=2, top=0.05, height=0.04),
        text_detection("MARATHON", ident=3, top=0.05, height=0.04),
        text_detection("1234", ident=5, left=0.42, top=0.55, height=0.06, confidence=99.1),
        text_detection("1234", ident=6, left=0.42, top=0.56, height=0.06, confidence=91.0),
        text_detection("#A512.", ident=7, left=0.7, top=0.6, height=0.05, confidence=95.0),
        text_detection("88", ident=8, left=0.1, top=0.9, height=0.005, confidence=99.0),  # tiny: background
        text_detection("4321", ident=9, left=0.2, top=0.6, height=0.05, confidence=61.0),  # unsure
        text_detection("1234567", ident=10, left=0.2, top=0.6, height=0.05),  # too long
        text_detection("AB12", ident=11, left=0.2, top=0.6, height=0.05),  # two letters
    ]


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
