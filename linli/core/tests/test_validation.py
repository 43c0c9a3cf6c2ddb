"""Free text is plain text: markup_problem names the first tag, and lets angle brackets
that no browser would take for a tag through."""

import re

import pytest
from django.utils import translation

from linli.core.validation import markup_problem


@pytest.mark.parametrize(
    "text, tag",
    [
        ("<script>alert(1)</script>", "<script>"),
        ('路边 "><img src=x onerror=1>', "<img src=x onerror=1>"),
        ("a</b>", "</b>"),
        ("<!-- hidden --> 垃圾", "<!--"),
        ("<!DOCTYPE html>", "<!DOCTYPE html>"),
        ("<?xml version='1.0'?>", "<?xml version='1.0'?>"),
        ("<a href=" + "x" * 60 + ">", "<a href=" + "x" * 31 + "…"),
    ],
)
def test_markup_is_named(text, tag):
    with translation.override("en"):
        problem = markup_problem(text)
    assert problem is not None and tag in problem


@pytest.mark.parametrize(
    "text",
    ["温度<30度", "a < b > c", "《通知》", "<<通知>>", "3<5号楼", ">_<", "x<y", "1 <= 2", "->"],
)
def test_angle_brackets_that_are_no_tag_pass(text):
    assert markup_problem(text) is None


def test_the_problem_is_said_in_chinese():
    with translation.override("zh-hans"):
        problem = markup_problem("<b>粗体</b>")
    assert problem is not None and "<b>" in problem
    assert re.search(r"[\u4e00-\u9fff]", problem), problem
