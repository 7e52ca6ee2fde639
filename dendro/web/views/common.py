"""What the page blueprints share: reading the page number, running reads with a clear error."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import request

from dendro.store.base import StoreError

T = TypeVar("T")


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def paginate(items: list[T], page: int, per_page: int) -> tuple[list[T], int, int]:
    """The items of ``page`` (clamped to the last page), that page, and the number of pages."""
    pages = max(1, -(-len(items) // per_page))
    page = min(page, pages)
    return items[(page - 1) * per_page : page * per_page], page, pages


def attempt(read: Callable[[], T]) -> tuple[T | None, str]:
    """The value of ``read()``, or None and the store's message when the store fails."""
    try:
        return read(), ""
    except StoreError as error:
        return None, str(error)
