"""The Endpoints screen's forms: edit an endpoint, create one, reinstate (support).

Being built: each form is a dialog of ``tui.screens.forms`` and its flow a method here.
"""

from __future__ import annotations

from tui.screens.base import BaseScreen


class EndpointForms(BaseScreen):
    """The forms of the Endpoints screen (which this is a base of)."""
