"""The main nav: each app registers its pages (in its AppConfig.ready); users see those their permissions allow."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # "app_label.codename"; None = any signed-in user
    order: int


_ITEMS: dict[str, NavItem] = {}


def nav_register(label: str, url_name: str, *, permission: str | None, order: int) -> None:
    _ITEMS[url_name] = NavItem(label, url_name, permission, order)


def nav_items() -> list[NavItem]:
    return sorted(_ITEMS.values(), key=lambda item: item.order)
