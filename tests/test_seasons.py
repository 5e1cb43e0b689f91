import pytest

from reconciler.errors import InputError
from reconciler.seasons import format_seasons, parse_seasons


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", (2024,)),
        ("2010-2012", (2010, 2011, 2012)),
        ("2019,2021-2023", (2019, 2021, 2022, 2023)),
        (" 2012 , 2010-2011 ", (2010, 2011, 2012)),
    ],
)
def test_parse_seasons(text, expected):
    assert parse_seasons(text) == expected
    assert parse_seasons(format_seasons(expected)) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [("2026-2010", "backwards"), ("1800", "outside"), ("abc", "not a season"), ("2010,,2011", "empty")],
)
def test_parse_seasons_rejects(text, needle):
    with pytest.raises(InputError, match=needle):
        parse_seasons(text)
