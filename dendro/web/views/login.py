"""Signing in with the console token (only asked when the console is served beyond localhost)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session

from dendro.web.auth import matches, safe_next

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    expected = current_app.config.get("CONSOLE_TOKEN")
    target = safe_next(request.values.get("next"))
    if not expected:
        return redirect(target)
    if request.method == "POST":
        if matches(request.form.get("token", ""), expected):
            session.clear()
            session["signed_in"] = True
            session["csrf"] = secrets.token_urlsafe(32)
            return redirect(target, code=303)
        return render_template("login.html", next=target, error="That is not the console's token."), 401
    return render_template("login.html", next=target, error="")


@blueprint.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect("/login", code=303)
