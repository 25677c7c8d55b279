"""A documented maxLength holds for the text as sent: stripping blanks first let 101 characters through a
field of at most 100 (schemathesis found it on POST /v1/agents)."""

import pytest
from pydantic import TypeAdapter, ValidationError

from airside.types import PersonName, Phone


@pytest.mark.parametrize(("kind", "limit"), [(PersonName, 100), (Phone, 32)])
def test_text_longer_than_its_max_length_is_refused_even_when_blanks_would_be_stripped(kind, limit):
    adapter = TypeAdapter(kind)
    assert adapter.json_schema()["maxLength"] == limit
    with pytest.raises(ValidationError, match="at most"):
        adapter.validate_python("\t" + "1" * limit)


def test_surrounding_blanks_of_a_name_within_its_length_are_still_stripped():
    assert TypeAdapter(PersonName).validate_python("  李伟 ") == "李伟"
