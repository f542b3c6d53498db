"""The OpenAPI schema documents the error answers the API really gives, not only its 200s.

Every operation may answer 401 (no or a bad token) and 403 (no permission); one with a path parameter 404; a
paginated list 400 (a bad ``limit`` or ``offset``, see ``core.api.pagination``). DRF writes them all as JSON.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": "Each refused query parameter with what is wrong with it",
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {
            "401": _json("Not authenticated: send a session cookie or `Authorization: Token <key>`", _DETAIL),
            "403": _json("Authenticated, but this role may not read this", _DETAIL),
        }
        if "{" in self.path:
            errors["404"] = _json("No such object", _DETAIL)
        if self._is_list_view() and self._get_paginator() is not None:
            errors["400"] = _json("A query parameter is out of range or malformed", _FIELD_ERRORS)
        return {**responses, **{code: body for code, body in errors.items() if code not in responses}}
