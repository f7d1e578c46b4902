"""Token view HTML: escaped, coloured by probability, alternatives on hover."""
import math

from apps.models.generation import TokenInfo
from apps.playground.decoding import describe, preset
from apps.playground.render import prob_colour, prompt_tokens_html, reply_tokens_html


def test_model_text_is_escaped_and_counted():
    html = prompt_tokens_html([{"id": 1, "piece": "<s>", "text": "<script>"}, {"id": 2, "piece": "Ġa", "text": " a"}])
    assert "<script>" not in html and "&lt;script&gt;" in html and 'data-count="2"' in html and "·a" in html
    assert '<sub class="tid">2</sub>' in html  # ids shown with the pieces


def test_reply_colours_follow_probability():
    toks = [TokenInfo(5, "Paris", math.log(0.95), [("Paris", 5, math.log(0.95)), ("Lyon", 6, math.log(0.02))]),
            TokenInfo(7, "!", math.log(0.05), [])]
    html = reply_tokens_html(toks)
    assert prob_colour(0.95) in html and prob_colour(0.05) in html
    assert "Lyon" in html and "p=95.0%" in html


def test_preset_descriptions():
    assert describe(preset("greedy")) == "greedy"
    assert describe(preset("balanced")) == "sample T=0.7 top-p=0.9"
    assert describe(preset("beam4")) == "beam×4"
