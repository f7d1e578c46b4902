"""The token view's logic: long lists collapsed, a note whenever the chosen token is not the model's
own favourite (a repetition penalty under "greedy"), and a chart axis covering exactly the bars."""
import math

from apps.models.generation import GenerationConfig, TokenInfo
from apps.playground import tokenview


def tok(i, chosen, top):
    return TokenInfo(id=chosen, text=f"t{i}", logprob=math.log(0.5), top=[(f"t{x}", x, math.log(0.5)) for x in top])


def test_long_lists_show_their_ends_and_a_count():
    head, hidden, tail = tokenview.collapse(list(range(3770)))
    assert head == list(range(300)) and tail == list(range(3670, 3770)) and hidden == 3370
    assert tokenview.collapse([1, 2, 3]) == ([1, 2, 3], 0, [])
    html = tokenview.collapsed_html(list(range(3770)), lambda xs: f"<b>{len(xs)}</b>", "en")
    assert html.startswith("<b>300</b>") and html.endswith("<b>100</b>") and "3370 more tokens" in html


def test_greedy_is_greedy_by_default_and_a_penalty_is_said():
    plain = [tok(0, 5, [5, 6]), tok(1, 7, [7, 5])]
    assert tokenview.reshaped_note(plain, GenerationConfig(), "en") == ""  # greedy took the top token
    reshaped = [tok(0, 5, [5, 6]), tok(1, 6, [5, 6])]  # step 1: the penalty pushed token 5 down
    note = tokenview.reshaped_note(reshaped, GenerationConfig(repetition_penalty=1.1), "en")
    assert "1 of 2 steps (positions 1)" in note and "repetition penalty 1.1" in note
    assert "重复惩罚 1.1" in tokenview.reshaped_note(reshaped, GenerationConfig(repetition_penalty=1.1), "zh")
    assert "sampling" in tokenview.reshaped_note(reshaped, GenerationConfig(do_sample=True), "en")
    assert GenerationConfig().repetition_penalty == 1.0


def test_chart_bars_are_labelled_by_position_and_token():
    labels, probs = tokenview.prob_bars([tok(0, 5, [5]), tok(1, 6, [6])])
    assert labels == ["0 t0", "1 t1"] and probs == [0.5, 0.5]
