"""Seeding the served fake: users files, numbered users, and what `serve` does with them."""

from __future__ import annotations

import io

import pytest

from whop_dm.testing._serve import SeedUser, numbered_users, read_users


def test_numbered_users_count_from_0001() -> None:
    users = numbered_users(12)
    assert [u.user_id for u in users[:2]] == ["user_0001", "user_0002"]
    assert users[-1].user_id == "user_0012"
    assert len(users) == 12


def test_numbered_users_past_9999_keep_counting() -> None:
    assert numbered_users(10_000)[-1].user_id == "user_10000"


def test_a_plain_users_file_is_one_id_a_line() -> None:
    text = "# the launch cohort\nuser_carol\n\n  user_dave  \n# user_erin\n"
    assert read_users(io.StringIO(text)) == [SeedUser("user_carol"), SeedUser("user_dave")]


def test_a_csv_users_file_names_its_columns() -> None:
    text = "username,email,id\ncarol,carol@example.com,user_c\ndave,,user_d\n"
    assert read_users(io.StringIO(text)) == [
        SeedUser("user_c", "carol", "carol@example.com"),
        SeedUser("user_d", "dave", None),
    ]


def test_a_csv_row_without_an_id_is_named_after_its_username() -> None:
    text = "username,email,name\ncarol,carol@example.com,Carol C\n"
    assert read_users(io.StringIO(text)) == [
        SeedUser("user_carol", "carol", "carol@example.com", "Carol C")
    ]


def test_a_csv_users_file_with_an_unknown_column_names_it() -> None:
    with pytest.raises(ValueError, match=r"line 1: unknown column\(s\) phone"):
        read_users(io.StringIO("id,phone\nuser_a,555\n"))


def test_a_csv_row_of_the_wrong_width_names_its_line() -> None:
    with pytest.raises(ValueError, match="line 3: 3 fields where the header has 2"):
        read_users(io.StringIO("id,email\nuser_a,a@example.com\nuser_b,b@example.com,x\n"))
