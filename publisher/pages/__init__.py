"""Purpose-built views of the entities people read most, shown inside the generic entity page: an action
plan as the table of the document (with its timeline), a CMP, a party, a country, a taxon.

`special_view` picks the view by the entity's types and computes its view model from the store with SPARQL
only, so it works on any store that answers SPARQL. The fragment templates in templates/views/ lay the
models out; Jinja's autoescaping keeps every value from the data text. No web imports. See docs/pages.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from publisher.iris import Iris
from publisher.namespaces import CMP_PATH
from publisher.pages.cmp import CmpView, cmp_view
from publisher.pages.country import CountryView, country_view
from publisher.pages.party import ITEMS_PER_PAGE, PartyView, party_view
from publisher.pages.plan import PlanView, plan_view
from publisher.pages.reader import NOT_IN_IRIREF, Queryable, Reader
from publisher.pages.taxon import TaxonView, taxon_view

DWC_TAXON = "http://rs.tdwg.org/dwc/terms/Taxon"


@dataclass(frozen=True)
class SpecialView:
    """Which fragment template shows the entity (included in the entity page), and its data.

    The fragment reads its model as `special.context.view`.
    """

    template: str
    context: dict[str, Any]


def special_view(
    store: Queryable,
    iris: Iris,
    iri: str,
    types: set[str],
    link_root: str = "/",
    today: date | None = None,
    page: int = 1,
    page_size: int = ITEMS_PER_PAGE,
) -> SpecialView | None:
    """The purpose-built view of an entity with one of the types below, or None (the generic page only).

    `types` are the entity's rdf:type IRIs; the first match wins, in the order plan, CMP, country, taxon,
    party. `today`, if given, is marked on a plan's timeline; nothing here reads the clock, so the same data
    gives the same page (and a strong ETag derived from the data stays true). A party's items come
    `page_size` at a time: `page` is the entity page's (its inbound links page alike).
    """
    if NOT_IN_IRIREF.search(iri):
        return None
    cmp = iris.base + CMP_PATH
    reader = Reader(store, iris, link_root)
    views: tuple[tuple[set[str], str, Callable[[], object]], ...] = (
        ({cmp + "ActionPlan"}, "plan", lambda: plan_view(reader, iri, today)),
        ({cmp + "ConservationManagementPlan"}, "cmp", lambda: cmp_view(reader, iri)),
        ({cmp + "Country"}, "country", lambda: country_view(reader, iri)),
        ({DWC_TAXON}, "taxon", lambda: taxon_view(reader, iri)),
        (
            {cmp + "Body", cmp + "RoleGroup", cmp + "Party"},
            "party",
            lambda: party_view(reader, iri, page, page_size),
        ),
    )
    for wanted, name, build in views:
        if wanted & types:
            return SpecialView(f"views/{name}.html", {"view": build()})
    return None


__all__ = [
    "CmpView",
    "CountryView",
    "PartyView",
    "PlanView",
    "Queryable",
    "SpecialView",
    "TaxonView",
    "special_view",
]
