from __future__ import annotations

import pytest

from core.llm.echo import echoes_instructions

ROLE_PLAY = (
    'Become the person described in the profile ("The person you will become"). Think, value and judge as they '
    "would: their age, background, work, beliefs and habits, not your own preferences and not what a typical "
    "assistant would pick.\n"
    "You will read a question this person asked and two answers to it, A and B. Decide which answer this person "
    "would prefer to receive, and give the reasons they would give, in a few sentences."
)


@pytest.mark.parametrize(
    "reply",
    [
        ROLE_PLAY,
        ROLE_PLAY.upper(),  # case and punctuation do not hide an echo
        (ROLE_PLAY + "\n") * 5,  # repeated until max_tokens
        ((ROLE_PLAY + " ") * 3)[:700],  # and cut off mid-word
        "Sure. " + ROLE_PLAY + " OK.",  # wrapped in a word or two
    ],
)
def test_an_echo_is_recognised(reply):
    assert echoes_instructions(reply, ROLE_PLAY)


@pytest.mark.parametrize(
    "reply",
    [
        "This person would prefer answer B: it is practical and plain-spoken, and they value tradition and family.",
        "A. It answers the question directly, the way a retired farmer who distrusts jargon would want.",
        # Quoting one line of the instructions inside a real answer is not an echo.
        "They were told to 'think, value and judge as they would' and so they pick A: it respects their faith, "
        "talks about costs in plain numbers and does not lecture them about their habits or their background.",
        "B",  # too short to judge
        "",
    ],
)
def test_a_real_answer_is_not_an_echo(reply):
    assert not echoes_instructions(reply, ROLE_PLAY)


def test_no_instructions_means_no_echo():
    assert not echoes_instructions(ROLE_PLAY, "")
