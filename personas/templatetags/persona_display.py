"""Template filters over ``personas.display``: ``{{ value|attribute_display:key }}``, ``{{ td|duration }}``,
``{{ text|paragraphs }}``."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from personas import display

register = template.Library()


@register.filter
def attribute_display(value: object, key: str) -> str:
    return display.attribute_display(key, value)


@register.filter
def duration(value: timedelta | float | int | None) -> str:
    return display.duration_display(value)


@register.filter
def duration_ms(value: int | None) -> str:
    return "" if value is None else display.duration_display(value / 1000)


@register.filter
def paragraphs(text: str) -> SafeString:
    return format_html_join("\n", "<p>{}</p>", ((p,) for p in display.paragraphs(text or "")))
