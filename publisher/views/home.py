"""The home page: what the dataset is and what it holds."""

from __future__ import annotations

from flask import Blueprint, render_template

from publisher.views.dataset import summary

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def index() -> str:
    return render_template("home.html", summary=summary())
